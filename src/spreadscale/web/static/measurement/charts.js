// Render every SPC chart spec on the page with vega-embed. The CSP forbids eval, so Vega
// runs its expressions through the interpreter; vega-embed's and the tooltip's injected
// styles are off and live in measurement.css instead.
(function () {
  "use strict";
  function render() {
    document.querySelectorAll("[data-spec]").forEach(function (el) {
      var data = document.getElementById(el.dataset.spec);
      if (!data || el.dataset.rendered) return;
      el.dataset.rendered = "1";
      vegaEmbed(el, JSON.parse(data.textContent), {
        renderer: "svg",
        actions: false,
        ast: true,
        expr: vega.expressionInterpreter,
        defaultStyle: false,
        tooltip: { disableDefaultStyle: true },
      }).catch(function (err) {
        el.textContent = "The chart could not be drawn: " + err.message;
      });
    });
  }
  document.addEventListener("DOMContentLoaded", render);
  document.addEventListener("htmx:afterSettle", render);
})();
