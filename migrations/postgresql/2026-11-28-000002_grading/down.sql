DROP INDEX hazards_enterprise_state;
DROP INDEX inspections_enterprise_source_date;
DROP TABLE enterprise_events;
DROP TABLE enterprise_assessments;
DROP FUNCTION refuse_history_change();
