DROP TABLE checklist_results;
DROP TABLE checklist_items;
DROP TABLE checklists;
