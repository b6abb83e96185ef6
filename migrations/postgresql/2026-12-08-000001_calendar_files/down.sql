DROP TABLE calendar_files;
