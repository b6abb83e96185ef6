DROP INDEX check_records_found;
DROP TABLE check_tallies;
