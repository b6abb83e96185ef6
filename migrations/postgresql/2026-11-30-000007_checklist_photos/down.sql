DROP TABLE checklist_photos;
