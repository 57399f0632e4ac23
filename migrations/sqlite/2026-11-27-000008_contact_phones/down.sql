DROP TABLE contact_phones;
