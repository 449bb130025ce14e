"""Readers and writers for CSV, XLSX, FHIR and DHIS2 files; no ORM here."""
