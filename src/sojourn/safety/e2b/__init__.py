"""ICH E2B(R3) for pharmacovigilance: a case version as ICSR XML (icsr), its conformance check before it
leaves (check, against the element table in elements.csv), the authority's acknowledgement (ack), and
the PV line list (csv_line)."""
