"""The protocol in the standards' own formats (USDM v4, FHIR R4B and R5, CDISC ODM 1.3.2, SDTM
trial design), each built from study.yaml and checked by the standard's own validator."""
