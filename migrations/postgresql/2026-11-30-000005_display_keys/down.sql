DROP TABLE display_keys;
