from spreadscale.cli import main

main(prog_name="spreadscale")
