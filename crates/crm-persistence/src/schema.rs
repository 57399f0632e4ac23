//! Diesel table definitions, identical for both backends (portable column types only).

diesel::table! {
    /// The single row identifying this installation.
    installation (id) {
        id -> Integer,
        instance_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// User accounts.
    users (id) {
        id -> Text,
        email -> Text,
        email_normalized -> Text,
        display_name -> Text,
        role -> Text,
        active -> Bool,
        password_hash -> Text,
        session_generation -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    /// Teams.
    teams (id) {
        id -> Text,
        name -> Text,
        name_normalized -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    /// Who manages and who belongs to which team.
    team_members (team_id, user_id) {
        team_id -> Text,
        user_id -> Text,
        is_manager -> Bool,
    }
}

diesel::table! {
    /// Refresh tokens (digests), grouped in families that rotation extends.
    refresh_tokens (digest) {
        digest -> Text,
        family_id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// API keys (digests).
    api_keys (id) {
        id -> Text,
        name -> Text,
        prefix -> Text,
        digest -> Text,
        scopes -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(team_members -> teams (team_id));
diesel::joinable!(team_members -> users (user_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(
    installation,
    users,
    teams,
    team_members,
    refresh_tokens,
    api_keys
);

diesel::table! {
    /// Customers.
    customers (id) {
        id -> Text,
        kind -> Text,
        name -> Text,
        legal_name -> Nullable<Text>,
        industry -> Nullable<Text>,
        company_size -> Nullable<Text>,
        website -> Nullable<Text>,
        address -> Nullable<Text>,
        tax_id -> Nullable<Text>,
        gender -> Nullable<Text>,
        birthday -> Nullable<Date>,
        phone -> Nullable<Text>,
        phone_normalized -> Nullable<Text>,
        email -> Nullable<Text>,
        email_normalized -> Nullable<Text>,
        status -> Text,
        classification -> Nullable<Text>,
        lead_source -> Nullable<Text>,
        tags -> Text,
        owner_id -> Nullable<Text>,
        score -> BigInt,
        last_activity_at -> Nullable<Timestamp>,
        next_follow_up_at -> Nullable<Timestamp>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        version -> BigInt,
        custom_fields -> Text,
        external_id -> Nullable<Text>,
    }
}

diesel::table! {
    /// What happened to each customer: who, when, and each field's old and new value.
    customer_events (customer_id, id) {
        id -> Text,
        customer_id -> Text,
        action -> Text,
        actor_id -> Text,
        at -> Timestamp,
        changes -> Text,
    }
}

diesel::joinable!(customer_events -> customers (customer_id));
diesel::allow_tables_to_appear_in_same_query!(customers, customer_events, users);

diesel::table! {
    /// Stored responses of creating requests, by caller and Idempotency-Key.
    idempotency_keys (scope, key) {
        scope -> Text,
        key -> Text,
        request_hash -> Text,
        status -> Nullable<Integer>,
        response_headers -> Nullable<Text>,
        response_body -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// People at customers.
    contacts (id) {
        id -> Text,
        customer_id -> Text,
        name -> Text,
        title -> Nullable<Text>,
        phones -> Text,
        phones_normalized -> Text,
        email -> Nullable<Text>,
        email_normalized -> Nullable<Text>,
        wechat_id -> Nullable<Text>,
        notes -> Nullable<Text>,
        is_primary -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        version -> BigInt,
        custom_fields -> Text,
    }
}

diesel::joinable!(contacts -> customers (customer_id));
diesel::allow_tables_to_appear_in_same_query!(contacts, customers);

diesel::table! {
    /// Each normalised phone of each contact, for duplicate checks.
    contact_phones (contact_id, phone_normalized) {
        contact_id -> Text,
        phone_normalized -> Text,
    }
}

diesel::joinable!(contact_phones -> contacts (contact_id));
diesel::allow_tables_to_appear_in_same_query!(contact_phones, contacts);
diesel::allow_tables_to_appear_in_same_query!(contact_phones, customers);

diesel::table! {
    /// Where customers come from, maintained by the admin.
    lead_sources (key) {
        key -> Text,
        label -> Text,
        position -> BigInt,
        archived -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    /// Custom field definitions.
    custom_fields (id) {
        id -> Text,
        entity -> Text,
        key -> Text,
        label -> Text,
        help_text -> Nullable<Text>,
        field_type -> Text,
        required -> Bool,
        default_value -> Nullable<Text>,
        position -> BigInt,
        rules -> Text,
        is_unique -> Bool,
        archived -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    /// One row per index key of a record's custom field value.
    custom_field_values (field_id, record_id) {
        field_id -> Text,
        record_id -> Text,
        value_number -> Nullable<BigInt>,
        value_text -> Nullable<Text>,
        /// The owner of the customer the value is of (NULL for the pool and for other records).
        owner_id -> Nullable<Text>,
    }
}

diesel::table! {
    /// The values of unique custom fields, one owner each.
    custom_field_unique (field_id, value_key) {
        field_id -> Text,
        value_key -> Text,
        record_id -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(custom_field_values, customers);
diesel::allow_tables_to_appear_in_same_query!(custom_field_values, contacts);
diesel::allow_tables_to_appear_in_same_query!(custom_field_values, custom_fields);

diesel::table! {
    /// What reps did with customers, with the follow-up each may schedule.
    activities (id) {
        id -> Text,
        customer_id -> Text,
        contact_id -> Nullable<Text>,
        author_id -> Text,
        kind -> Text,
        occurred_at -> Timestamp,
        subject -> Text,
        content -> Nullable<Text>,
        outcome -> Nullable<Text>,
        attachments -> Text,
        custom_fields -> Text,
        follow_up_at -> Nullable<Timestamp>,
        follow_up_note -> Nullable<Text>,
        follow_up_state -> Nullable<Text>,
        follow_up_closed_at -> Nullable<Timestamp>,
        follow_up_closed_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        version -> BigInt,
        follow_up_reminded_at -> Nullable<Timestamp>,
        behaviors -> Text,
        opportunity_id -> Nullable<Text>,
    }
}

diesel::joinable!(activities -> customers (customer_id));
diesel::allow_tables_to_appear_in_same_query!(activities, customers);
diesel::allow_tables_to_appear_in_same_query!(activities, contacts);
diesel::allow_tables_to_appear_in_same_query!(activities, custom_field_values);

diesel::table! {
    /// Each user's private calendar feed token, as a digest.
    calendar_feeds (user_id) {
        user_id -> Text,
        token_digest -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Events for other systems, written with the change that causes them.
    outbox_events (id) {
        id -> Text,
        event_type -> Text,
        subject_id -> Text,
        payload -> Text,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// The behaviour catalogue of scoring.
    behaviors (code) {
        code -> Text,
        label -> Text,
        description -> Nullable<Text>,
        points -> BigInt,
        archived -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    /// How scores decay (one row).
    scoring_settings (id) {
        id -> Integer,
        half_life_days -> BigInt,
        updated_at -> Timestamp,
        version -> BigInt,
        scores_refreshed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// The product catalogue.
    products (id) {
        id -> Text,
        sku -> Text,
        sku_key -> Text,
        name -> Text,
        description -> Nullable<Text>,
        unit_price -> BigInt,
        currency -> Text,
        active -> Bool,
        search_key -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    /// Sales pipelines.
    pipelines (id) {
        id -> Text,
        name -> Text,
        is_default -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    /// The ordered stages of each pipeline.
    pipeline_stages (id) {
        id -> Text,
        pipeline_id -> Text,
        name -> Text,
        position -> BigInt,
        probability -> BigInt,
        kind -> Text,
        guidance -> Nullable<Text>,
        checklist -> Text,
    }
}

diesel::joinable!(pipeline_stages -> pipelines (pipeline_id));
diesel::allow_tables_to_appear_in_same_query!(pipelines, pipeline_stages);

diesel::table! {
    /// Deals with customers.
    opportunities (id) {
        id -> Text,
        customer_id -> Text,
        owner_id -> Text,
        name -> Text,
        pipeline_id -> Text,
        stage_id -> Text,
        status -> Text,
        currency -> Text,
        lines -> Text,
        amount -> BigInt,
        expected_close_on -> Nullable<Date>,
        closed_at -> Nullable<Timestamp>,
        lost_reason -> Nullable<Text>,
        checklist -> Text,
        stage_entered_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        version -> BigInt,
        custom_fields -> Text,
    }
}

diesel::table! {
    /// The stages each opportunity entered.
    opportunity_stage_changes (id) {
        id -> Text,
        opportunity_id -> Text,
        from_stage_id -> Nullable<Text>,
        to_stage_id -> Text,
        changed_by -> Text,
        changed_at -> Timestamp,
        amount -> BigInt,
        probability -> BigInt,
        seconds_in_previous -> BigInt,
        note -> Nullable<Text>,
        overridden -> Bool,
    }
}

diesel::joinable!(opportunities -> customers (customer_id));
diesel::allow_tables_to_appear_in_same_query!(opportunities, customers);
diesel::allow_tables_to_appear_in_same_query!(opportunities, custom_field_values);

diesel::table! {
    /// Lead import jobs.
    imports (id) {
        id -> Text,
        created_by -> Text,
        status -> Text,
        settings -> Text,
        size_bytes -> BigInt,
        total_rows -> Nullable<BigInt>,
        rows_processed -> BigInt,
        created_count -> BigInt,
        updated_count -> BigInt,
        skipped_count -> BigInt,
        failed_count -> BigInt,
        error -> Nullable<Text>,
        created_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// The uploaded file of an import, in parts.
    import_uploads (import_id, seq) {
        import_id -> Text,
        seq -> BigInt,
        data -> Binary,
    }
}

diesel::table! {
    /// The result of each processed row of an import.
    import_rows (import_id, row_number) {
        import_id -> Text,
        row_number -> BigInt,
        outcome -> Text,
        customer_id -> Nullable<Text>,
        matched_row -> Nullable<BigInt>,
        errors -> Text,
    }
}

diesel::table! {
    /// Merges of duplicate customers, undoable for 30 days.
    customer_merges (id) {
        id -> Text,
        survivor_id -> Text,
        duplicate_ids -> Text,
        survivor_before -> Text,
        survivor_version -> BigInt,
        moved -> Text,
        merged_by -> Text,
        merged_at -> Timestamp,
        undone_at -> Nullable<Timestamp>,
        undone_by -> Nullable<Text>,
    }
}
