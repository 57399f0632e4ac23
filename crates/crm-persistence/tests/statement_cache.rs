//! A rep's reads are prepared once per connection and then taken from its statement cache, on
//! both backends: no statement of the customer overview or of the lists a rep pages through is
//! parsed and planned again on every run.

use chrono::{Duration, Utc};
use crm_domain::activities::{ActivityFields, ActivityKind, FollowUpPlan};
use crm_domain::custom_fields::{FieldDraft, FieldEntity, FieldRules, FieldType, SelectOption};
use crm_domain::customers::{ContactFields, CustomerFields, CustomerKind};
use crm_domain::identity::{Email, NewUser, Role, Visibility};
use crm_domain::opportunities::OpportunityDraft;
use crm_domain::page::PageRequest;
use crm_domain::ports::{
    ActivityFilter, ActivityStore, Actor, ContactFilter, ContactStore, CustomFieldStore,
    CustomerFilter, CustomerStore, FollowUpFilter, OpportunityFilter, OpportunityStore,
    OverviewLimits, UserStore,
};
use crm_domain::DomainError;
use crm_persistence::backend_tests;
use crm_persistence::query_plan::capture_sql_and_cache;
use crm_persistence::test_support::TestDatabase;

fn ok<T>(r: Result<T, DomainError>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

fn a_reps_reads_are_prepared_once(db: &TestDatabase) {
    let store = db.database();
    let now = Utc::now();
    let ((), ran, cached) = capture_sql_and_cache(|| {
        let admin = Actor {
            id: "admin".into(),
            visibility: Visibility::All,
            user_id: None,
        };
        let rep_id = ok(store.create_user(NewUser {
            email: Email::parse("rep@example.com", "/email").unwrap_or_else(|e| panic!("{e:?}")),
            display_name: "Rep".into(),
            role: Role::Rep,
            password_hash: "x".into(),
        }))
        .id;
        let rep = Actor {
            id: rep_id.clone(),
            visibility: Visibility::OwnersOrPool(vec![rep_id.clone()]),
            user_id: Some(rep_id.clone()),
        };
        let tier = ok(store.create_field(FieldDraft {
            entity: FieldEntity::Customer,
            key: "tier".into(),
            label: "Tier".into(),
            field_type: FieldType::SingleSelect,
            rules: FieldRules {
                options: vec![SelectOption {
                    key: "gold".into(),
                    label: "Gold".into(),
                    archived: false,
                }],
                ..FieldRules::default()
            },
            required: false,
            unique: false,
            position: 0,
            default: None,
            help_text: None,
        }));
        let mut fields = CustomerFields::new(CustomerKind::Company, "Acme");
        fields
            .custom_fields
            .insert("tier".into(), serde_json::json!("gold"));
        let customer = ok(store.create_customer(&admin, fields, Some(rep_id.clone()), false)).id;
        ok(store.create_contact(
            &rep,
            &customer,
            ContactFields {
                name: "Li".into(),
                title: None,
                phones: vec![],
                email: None,
                wechat_id: None,
                notes: None,
                custom_fields: Default::default(),
            },
            false,
            false,
        ));
        ok(store.create_activity(
            &rep,
            &customer,
            ActivityFields {
                contact_id: None,
                opportunity_id: None,
                kind: ActivityKind::Call,
                occurred_at: now - Duration::hours(1),
                subject: "First call".into(),
                content: None,
                outcome: None,
                attachments: vec![],
                custom_fields: Default::default(),
                behaviors: vec![],
            },
            Some(FollowUpPlan {
                due_at: now + Duration::hours(1),
                note: None,
            }),
            None,
            now,
        ));
        ok(store.create_opportunity(
            &rep,
            OpportunityDraft {
                customer_id: customer.clone(),
                name: "Deal".into(),
                pipeline_id: None,
                stage_id: None,
                currency: "CNY".into(),
                lines: vec![],
                amount: None,
                expected_close_on: None,
                custom_fields: Default::default(),
            },
            now,
        ));
        let page = PageRequest {
            limit: 50,
            after: None,
        };
        let by_tier = tier
            .filter(
                crm_domain::custom_fields::CustomFilterOp::Eq,
                "gold",
                Default::default(),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        // Twice: what the first run kept, the second finds.
        for _ in 0..2 {
            let overview = ok(store.customer_overview(
                &rep,
                &customer,
                OverviewLimits {
                    contacts: 10,
                    activities: 10,
                    opportunities: 10,
                },
            ));
            assert_eq!(
                (
                    overview.contacts.len(),
                    overview.recent_activities.len(),
                    overview.open_opportunities.len()
                ),
                (1, 1, 1)
            );
            let everyone = ok(store.list_customers(&rep, &CustomerFilter::default(), &page));
            let gold = ok(store.list_customers(
                &rep,
                &CustomerFilter {
                    custom: vec![by_tier.clone()],
                    ..CustomerFilter::default()
                },
                &page,
            ));
            assert_eq!((everyone.items.len(), gold.items.len()), (1, 1));
            let contacts = ok(store.list_contacts(&rep, &ContactFilter::default(), &page));
            let activities = ok(store.list_activities(&rep, &ActivityFilter::default(), &page));
            let deals = ok(store.list_opportunities(
                &rep,
                &OpportunityFilter::default(),
                Default::default(),
                &page,
            ));
            let due = ok(store.follow_ups(&rep, &FollowUpFilter::default(), &page));
            assert_eq!(
                (
                    contacts.items.len(),
                    activities.items.len(),
                    deals.items.len(),
                    due.items.len()
                ),
                (1, 1, 1, 1)
            );
        }
    });
    let mut prepared_each_time: Vec<&str> = ran
        .iter()
        .map(|s| s.sql.as_str())
        .filter(|sql| sql.starts_with("SELECT") && !cached.iter().any(|c| c == sql))
        .collect();
    prepared_each_time.dedup();
    assert_eq!(prepared_each_time, Vec::<&str>::new());
}

backend_tests!(a_reps_reads_are_prepared_once);
