//! The database schema shared by both backends, written in the portable
//! subset of SQL types that `diesel::MultiConnection` supports.

diesel::table! {
    enterprises (id) {
        id -> Text,
        name -> Text,
        credit_code -> Text,
        status -> Text,
        contact_emails -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        name -> Text,
        role -> Text,
        enterprise_id -> Nullable<Text>,
        password_hash -> Text,
        active -> Bool,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        tokens_valid_after -> Nullable<Timestamp>,
        token_version -> BigInt,
    }
}

diesel::table! {
    inspections (id) {
        id -> Text,
        source -> Text,
        enterprise_id -> Text,
        checking_enterprise_id -> Nullable<Text>,
        inspected_on -> Date,
        inspectors -> Text,
        notes -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    hazard_number_counters (year) {
        year -> Integer,
        last_seq -> Integer,
    }
}

diesel::table! {
    hazards (id) {
        id -> Text,
        number -> Text,
        found_year -> Integer,
        enterprise_id -> Text,
        source -> Text,
        checking_enterprise_id -> Nullable<Text>,
        inspection_id -> Nullable<Text>,
        title -> Text,
        description -> Text,
        location -> Text,
        category -> Text,
        specialty -> Nullable<Text>,
        level -> Text,
        major_basis_code -> Nullable<Integer>,
        listing_ordering_body -> Nullable<Text>,
        listing_listed_on -> Nullable<Date>,
        found_at -> Timestamp,
        found_by -> Text,
        deadline -> Date,
        state -> Text,
        version -> BigInt,
        plan_measures -> Nullable<Text>,
        plan_responsible_person -> Nullable<Text>,
        plan_funds_fen -> Nullable<BigInt>,
        plan_contingency -> Nullable<Text>,
        planned_at -> Nullable<Timestamp>,
        planned_by -> Nullable<Text>,
        submitted_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        voided_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        evidence_before -> Integer,
        evidence_after -> Integer,
        found_month -> Integer,
        closed_on_time -> Nullable<Bool>,
        closure_entered_late -> Bool,
        wire -> Nullable<Text>,
    }
}

diesel::table! {
    hazard_counts (found_year, enterprise_id, source, level, category, specialty, state, found_month, on_time, late_closure) {
        found_year -> Integer,
        enterprise_id -> Text,
        source -> Text,
        level -> Text,
        category -> Text,
        specialty -> Text,
        state -> Text,
        found_month -> Integer,
        on_time -> Integer,
        late_closure -> Integer,
        n -> BigInt,
    }
}

diesel::table! {
    attachments (id) {
        id -> Text,
        hazard_id -> Text,
        phase -> Text,
        sha256 -> Text,
        size_bytes -> BigInt,
        content_type -> Text,
        file_name -> Text,
        caption -> Nullable<Text>,
        uploaded_by -> Text,
        uploaded_at -> Timestamp,
    }
}

diesel::table! {
    hazard_events (id) {
        id -> Text,
        hazard_id -> Text,
        seq -> Integer,
        action -> Text,
        actor_id -> Text,
        actor_role -> Text,
        from_state -> Nullable<Text>,
        to_state -> Text,
        occurred_at -> Timestamp,
        recorded_at -> Timestamp,
        note -> Nullable<Text>,
        details -> Text,
        entered_late -> Bool,
    }
}

diesel::table! {
    hazard_extensions (id) {
        id -> Text,
        hazard_id -> Text,
        requested_deadline -> Date,
        previous_deadline -> Date,
        reason -> Text,
        state -> Text,
        requested_by -> Text,
        requested_at -> Timestamp,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        granted_deadline -> Nullable<Date>,
        decision_note -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (user_id, idempotency_key) {
        user_id -> Text,
        idempotency_key -> Text,
        request_fingerprint -> Text,
        response_status -> Integer,
        response_body -> Text,
        location -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    enterprise_assessments (id) {
        id -> Text,
        enterprise_id -> Text,
        score_centi -> Integer,
        direct_red_triggers -> Text,
        grade -> Text,
        thresholds_version -> Text,
        thresholds -> Text,
        assessed_on -> Date,
        assessor -> Text,
        notes -> Text,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    enterprise_events (id) {
        id -> Text,
        enterprise_id -> Text,
        seq -> Integer,
        action -> Text,
        actor_id -> Text,
        actor_role -> Text,
        occurred_at -> Timestamp,
        recorded_at -> Timestamp,
        note -> Nullable<Text>,
        details -> Text,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        dedup_key -> Text,
        hazard_id -> Nullable<Text>,
        rule -> Text,
        deadline -> Nullable<Date>,
        recipients -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    hazard_dossiers (hazard_id) {
        hazard_id -> Text,
        state_and_cause -> Text,
        danger_and_difficulty -> Text,
        goals_and_tasks -> Nullable<Text>,
        materials -> Nullable<Text>,
        responsible_body -> Nullable<Text>,
        requirements -> Nullable<Text>,
        stop_scope -> Text,
        stop_from -> Nullable<Date>,
        stop_until -> Nullable<Date>,
        updated_by -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    hazard_listings (hazard_id) {
        hazard_id -> Text,
        authority_level -> Nullable<Text>,
        authority_name -> Text,
        document_number -> Nullable<Text>,
        listed_on -> Date,
        due_on -> Nullable<Date>,
        responsible_leader -> Nullable<Text>,
        listed_by -> Text,
        assessor -> Nullable<Text>,
        assessor_kind -> Nullable<Text>,
        assessment_conclusion -> Nullable<Text>,
        assessment_attachment_id -> Nullable<Text>,
        assessed_on -> Nullable<Date>,
        assessed_by -> Nullable<Text>,
        resumption_applicant -> Nullable<Text>,
        resumption_applied_on -> Nullable<Date>,
        resumption_note -> Nullable<Text>,
        resumption_by -> Nullable<Text>,
        delisting_document_number -> Nullable<Text>,
        delisted_on -> Nullable<Date>,
        delisted_by -> Nullable<Text>,
    }
}

diesel::table! {
    checklists (id) {
        id -> Text,
        name -> Text,
        description -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    checklist_items (id) {
        id -> Text,
        checklist_id -> Text,
        position -> Integer,
        text -> Text,
        basis -> Nullable<Text>,
        specialty -> Nullable<Text>,
    }
}

diesel::table! {
    imports (id) {
        id -> Text,
        kind -> Text,
        file_name -> Text,
        sha256 -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        rows_total -> Integer,
        created -> Integer,
        unchanged -> Integer,
        skipped -> Integer,
        report -> Text,
    }
}

diesel::table! {
    import_keys (key) {
        key -> Text,
        hazard_id -> Text,
        import_id -> Text,
    }
}

diesel::table! {
    checklist_photos (id) {
        id -> Text,
        inspection_id -> Text,
        item_id -> Text,
        sha256 -> Text,
        size_bytes -> BigInt,
        content_type -> Text,
        file_name -> Text,
        caption -> Nullable<Text>,
        uploaded_by -> Text,
        uploaded_at -> Timestamp,
    }
}

diesel::table! {
    checklist_results (inspection_id, item_id) {
        inspection_id -> Text,
        item_id -> Text,
        checklist_id -> Text,
        outcome -> Text,
        note -> Nullable<Text>,
        hazard_id -> Nullable<Text>,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    filings (id) {
        id -> Text,
        period_id -> Text,
        enterprise_id -> Text,
        year -> Integer,
        quarter -> Nullable<Integer>,
        version -> Integer,
        figures -> Text,
        principal_name -> Text,
        note -> Nullable<Text>,
        correction_reason -> Nullable<Text>,
        filed_by -> Text,
        filed_at -> Timestamp,
        filed_on -> Date,
    }
}

diesel::table! {
    changes (seq) {
        seq -> BigInt,
        kind -> Text,
        ref_id -> Text,
        enterprise_id -> Text,
        hazard_id -> Nullable<Text>,
        action -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    display_keys (id) {
        id -> Text,
        name -> Text,
        key_sha256 -> Text,
        key_prefix -> Text,
        expires_at -> Timestamp,
        created_by -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Text,
        url -> Text,
        description -> Nullable<Text>,
        event_types -> Text,
        secret -> Text,
        active -> Bool,
        version -> BigInt,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        webhook_id -> Text,
        event_id -> Text,
        event_type -> Text,
        payload -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    risk_objects (id) {
        id -> Text,
        enterprise_id -> Text,
        kind -> Text,
        name -> Text,
        major_source_code -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    risk_units (id) {
        id -> Text,
        object_id -> Text,
        enterprise_id -> Text,
        name -> Text,
        department -> Nullable<Text>,
        responsible_person -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    risk_events (id) {
        id -> Text,
        unit_id -> Text,
        enterprise_id -> Text,
        name -> Text,
        consequence -> Nullable<Text>,
        assessment -> Text,
        score_centi -> BigInt,
        level -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    control_measures (id) {
        id -> Text,
        event_id -> Text,
        enterprise_id -> Text,
        description -> Text,
        classification -> Text,
        control_mode -> Text,
        check_content -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    check_tasks (id) {
        id -> Text,
        measure_id -> Text,
        unit_id -> Text,
        enterprise_id -> Text,
        name -> Text,
        kind -> Text,
        assignee_role -> Nullable<Text>,
        assignee_user_id -> Nullable<Text>,
        schedule -> Text,
        active -> Bool,
        created_by -> Text,
        created_at -> Timestamp,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    unit_pauses (id) {
        id -> Text,
        unit_id -> Text,
        enterprise_id -> Text,
        starts_at -> Timestamp,
        ends_at -> Nullable<Timestamp>,
        reason -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    check_records (id) {
        id -> Text,
        task_id -> Text,
        enterprise_id -> Text,
        occurrence -> BigInt,
        outcome -> Text,
        note -> Nullable<Text>,
        checked_at -> Timestamp,
        recorded_at -> Timestamp,
        entered_late -> Bool,
        hazard_id -> Nullable<Text>,
        recorded_by -> Text,
        failed_items -> Nullable<Text>,
    }
}

diesel::table! {
    major_sources (id) {
        id -> Text,
        enterprise_id -> Text,
        object_id -> Text,
        unit_id -> Text,
        event_id -> Text,
        principal_measure_id -> Text,
        technical_measure_id -> Text,
        operational_measure_id -> Text,
        code -> Text,
        name -> Text,
        unit_kind -> Text,
        inputs -> Text,
        s_centi -> BigInt,
        r_centi -> BigInt,
        grade -> Integer,
        assessed_on -> Nullable<Date>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        inputs_changed_on -> Nullable<Date>,
        registered_on -> Nullable<Date>,
    }
}

diesel::table! {
    major_source_assessments (id) {
        id -> Text,
        source_id -> Text,
        enterprise_id -> Text,
        assessed_on -> Date,
        sha256 -> Text,
        size_bytes -> BigInt,
        content_type -> Text,
        file_name -> Text,
        caption -> Nullable<Text>,
        uploaded_by -> Text,
        uploaded_at -> Timestamp,
    }
}

diesel::table! {
    major_source_drills (id) {
        id -> Text,
        source_id -> Text,
        enterprise_id -> Text,
        kind -> Text,
        held_on -> Date,
        note -> Nullable<Text>,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    major_source_persons (id) {
        id -> Text,
        source_id -> Text,
        enterprise_id -> Text,
        kind -> Text,
        name -> Text,
        post -> Text,
        phone -> Text,
        user_id -> Nullable<Text>,
        since -> Date,
        task_id -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        replaced_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(users -> enterprises (enterprise_id));
diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::joinable!(checklist_items -> checklists (checklist_id));
diesel::joinable!(hazard_dossiers -> hazards (hazard_id));
diesel::joinable!(hazard_listings -> hazards (hazard_id));
diesel::joinable!(hazard_events -> hazards (hazard_id));
diesel::joinable!(hazard_extensions -> hazards (hazard_id));
diesel::joinable!(attachments -> hazards (hazard_id));

diesel::table! {
    register_revisions (id) {
        id -> Text,
        enterprise_id -> Text,
        node_kind -> Text,
        node_id -> Text,
        action -> Text,
        before -> Text,
        after -> Nullable<Text>,
        reason -> Nullable<Text>,
        revised_by -> Text,
        revised_at -> Timestamp,
    }
}

diesel::table! {
    calendar_files (id) {
        id -> Text,
        year -> Integer,
        file -> Text,
        loaded_by -> Text,
        loaded_at -> Timestamp,
    }
}

diesel::table! {
    check_record_photos (id) {
        id -> Text,
        record_id -> Text,
        enterprise_id -> Text,
        sha256 -> Text,
        size_bytes -> BigInt,
        content_type -> Text,
        file_name -> Text,
        caption -> Nullable<Text>,
        uploaded_by -> Text,
        uploaded_at -> Timestamp,
    }
}

diesel::table! {
    check_tallies (task_id, month) {
        task_id -> Text,
        month -> Text,
        generation -> BigInt,
        basis -> Nullable<Text>,
        paused -> BigInt,
        done_on_time -> BigInt,
        done_late -> BigInt,
        missed -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    major_source_assessments,
    enterprises,
    users,
    inspections,
    hazard_number_counters,
    hazards,
    hazard_events,
    hazard_extensions,
    attachments,
    idempotency_keys,
    enterprise_assessments,
    enterprise_events,
    outbox,
    hazard_dossiers,
    hazard_listings,
    checklists,
    checklist_items,
    checklist_photos,
    imports,
    import_keys,
    checklist_results,
    filings,
    changes,
    display_keys,
    webhooks,
    webhook_deliveries,
    risk_objects,
    risk_units,
    risk_events,
    control_measures,
    check_tasks,
    unit_pauses,
    check_records,
    major_sources,
    major_source_persons,
    major_source_drills,
    register_revisions,
    calendar_files,
    check_record_photos,
    check_tallies,
);
