DROP TABLE filings;
