"""CRM import and export: Salesforce and HubSpot exports (or any CSV with a map) in, CSV and JSON out.

sources reads CSV files into plain records (bad rows become issues), mapping knows the CRMs'
stage and role names, merge plans what a (re-)import changes as data, apply writes it through the
round-trip writer all at the end, and export writes Salesforce CSVs and the portfolio as JSON.
"""
