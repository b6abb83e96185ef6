DROP TABLE major_source_drills;
