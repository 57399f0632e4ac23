DROP TABLE import_rows;
DROP TABLE import_uploads;
DROP TABLE imports;
