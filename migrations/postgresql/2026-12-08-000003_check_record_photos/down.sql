DROP TABLE check_record_photos;
