//! Users, sessions, API keys, teams and visibility on both backends.

use chrono::{Duration, Utc};
use crm_domain::identity::{
    Email, NewUser, Principal, Role, Scope, TeamDraft, UserChanges, Visibility,
};
use crm_domain::page::PageRequest;
use crm_domain::ports::{
    ApiKeyStore, NewApiKey, RefreshOutcome, SessionStore, TeamStore, UserStore,
};
use crm_domain::{DomainError, FieldError};
use crm_persistence::backend_tests;
use crm_persistence::test_support::{test_options, TestDatabase};
use crm_persistence::Database;

fn new_user(email: &str, role: Role) -> NewUser {
    NewUser {
        email: Email::parse(email, "/email").unwrap_or_else(|e| panic!("{e:?}")),
        display_name: format!("User {email}"),
        role,
        password_hash: "$argon2id$placeholder".into(),
    }
}

fn create(db: &TestDatabase, email: &str, role: Role) -> String {
    db.database()
        .create_user(new_user(email, role))
        .map(|u| u.id)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn ok<T>(result: Result<T, DomainError>) -> T {
    result.unwrap_or_else(|e| panic!("{e:?}"))
}

fn users_are_created_with_unique_emails(db: &TestDatabase) {
    let store = db.database();
    let user = ok(store.create_user(new_user(" Li.Wei@Example.com ", Role::Rep)));
    assert_eq!(user.email, "Li.Wei@Example.com");
    assert_eq!(user.role, Role::Rep);
    assert!(user.active);
    assert_eq!(user.version, 1);
    assert_eq!(ok(store.user(&user.id)), user);
    let duplicate = store.create_user(new_user("li.wei@example.COM", Role::Admin));
    assert_eq!(
        duplicate,
        Err(DomainError::Conflict {
            code: "duplicate_email",
            message: "a user with this email already exists".into()
        })
    );
    assert_eq!(
        ok(store.count_users()),
        1,
        "nothing written by the refused create"
    );
    let credentials = ok(store.credentials("li.wei@example.com")).map(|c| (c.user_id, c.active));
    assert_eq!(credentials, Some((user.id.clone(), true)));
    assert!(ok(store.credentials("nobody@example.com")).is_none());
    assert_eq!(
        store.user("no-such-id"),
        Err(DomainError::NotFound { entity: "user" })
    );
}

fn user_pages_walk_every_user_once(db: &TestDatabase) {
    let store = db.database();
    let mut ids: Vec<String> = (0..7)
        .map(|i| create(db, &format!("u{i}@example.com"), Role::Rep))
        .collect();
    ids.sort();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = ok(store.list_users(&PageRequest {
            limit: 3,
            after: after.clone(),
        }));
        assert!(page.items.len() <= 3);
        seen.extend(page.items.into_iter().map(|u| u.id));
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, ids);
}

fn stale_version_is_refused_and_changes_nothing(db: &TestDatabase) {
    let store = db.database();
    let id = create(db, "a@example.com", Role::Rep);
    let changes = UserChanges {
        display_name: Some("Renamed".into()),
        ..UserChanges::default()
    };
    let updated = ok(store.update_user(&id, changes.clone(), Some(1)));
    assert_eq!(
        (updated.display_name.as_str(), updated.version),
        ("Renamed", 2)
    );
    let stale = store.update_user(
        &id,
        UserChanges {
            role: Some(Role::Manager),
            ..UserChanges::default()
        },
        Some(1),
    );
    assert_eq!(
        stale,
        Err(DomainError::PreconditionFailed { current_version: 2 })
    );
    assert_eq!(ok(store.user(&id)).role, Role::Rep);
}

fn password_change_ends_every_session(db: &TestDatabase) {
    let store = db.database();
    let id = create(db, "a@example.com", Role::Rep);
    let expires = Utc::now() + Duration::days(30);
    ok(store.start_session(&id, "digest-1", expires));
    let before = ok(store.auth_subject(&id)).map(|s| s.session_generation);
    let changes = UserChanges {
        password_hash: Some("$argon2id$new".into()),
        ..UserChanges::default()
    };
    ok(store.update_user(&id, changes, None));
    let after = ok(store.auth_subject(&id)).map(|s| s.session_generation);
    assert_eq!(before.map(|g| g + 1), after);
    assert_eq!(
        ok(store.rotate_session("digest-1", "digest-2", expires, Utc::now())),
        RefreshOutcome::Invalid
    );
    assert_eq!(
        ok(store.credentials("a@example.com"))
            .map(|c| c.password_hash)
            .as_deref(),
        Some("$argon2id$new")
    );
}

fn deactivation_ends_sessions_but_renaming_does_not(db: &TestDatabase) {
    let store = db.database();
    let id = create(db, "a@example.com", Role::Rep);
    let expires = Utc::now() + Duration::days(30);
    ok(store.start_session(&id, "digest-1", expires));
    ok(store.update_user(
        &id,
        UserChanges {
            display_name: Some("X".into()),
            ..UserChanges::default()
        },
        None,
    ));
    assert_eq!(
        ok(store.auth_subject(&id)).map(|s| s.session_generation),
        Some(0)
    );
    ok(store.update_user(
        &id,
        UserChanges {
            active: Some(false),
            ..UserChanges::default()
        },
        None,
    ));
    let subject = ok(store.auth_subject(&id));
    assert_eq!(
        subject.map(|s| (s.active, s.session_generation)),
        Some((false, 1))
    );
    assert_eq!(
        ok(store.rotate_session("digest-1", "digest-2", expires, Utc::now())),
        RefreshOutcome::Invalid
    );
}

fn the_last_admin_stays(db: &TestDatabase) {
    let store = db.database();
    let admin = create(db, "admin@example.com", Role::Admin);
    let demote = UserChanges {
        role: Some(Role::Rep),
        ..UserChanges::default()
    };
    let refused = store.update_user(&admin, demote.clone(), None);
    assert_eq!(
        refused,
        Err(DomainError::Conflict {
            code: "last_admin",
            message: "the last active admin cannot be deactivated or demoted".into()
        })
    );
    create(db, "second@example.com", Role::Admin);
    assert_eq!(ok(store.update_user(&admin, demote, None)).role, Role::Rep);
}

fn refresh_tokens_rotate_and_reuse_revokes_the_family(db: &TestDatabase) {
    let store = db.database();
    let id = create(db, "a@example.com", Role::Rep);
    let now = Utc::now();
    let expires = now + Duration::days(30);
    ok(store.start_session(&id, "t1", expires));
    let rotated = ok(store.rotate_session("t1", "t2", expires, now));
    assert!(
        matches!(rotated, RefreshOutcome::Rotated(ref s) if s.user_id == id && s.role == Role::Rep)
    );
    // t1 again: reuse. The family, including the current t2, is revoked.
    assert_eq!(
        ok(store.rotate_session("t1", "t3", expires, now)),
        RefreshOutcome::Reused
    );
    assert_eq!(
        ok(store.rotate_session("t2", "t4", expires, now)),
        RefreshOutcome::Invalid
    );
    assert_eq!(
        ok(store.rotate_session("unknown", "t5", expires, now)),
        RefreshOutcome::Invalid
    );
}

fn expired_refresh_tokens_are_invalid(db: &TestDatabase) {
    let store = db.database();
    let id = create(db, "a@example.com", Role::Rep);
    let now = Utc::now();
    ok(store.start_session(&id, "t1", now + Duration::minutes(1)));
    assert_eq!(
        ok(store.rotate_session(
            "t1",
            "t2",
            now + Duration::days(1),
            now + Duration::minutes(2)
        )),
        RefreshOutcome::Invalid
    );
}

fn logout_ends_the_family(db: &TestDatabase) {
    let store = db.database();
    let id = create(db, "a@example.com", Role::Rep);
    let now = Utc::now();
    let expires = now + Duration::days(30);
    ok(store.start_session(&id, "t1", expires));
    ok(store.start_session(&id, "other-device", expires));
    assert!(ok(store.end_session("t1", now)));
    assert!(!ok(store.end_session("t1", now)), "already ended");
    assert_eq!(
        ok(store.rotate_session("t1", "t2", expires, now)),
        RefreshOutcome::Invalid
    );
    assert!(matches!(
        ok(store.rotate_session("other-device", "t3", expires, now)),
        RefreshOutcome::Rotated(_)
    ));
}

fn api_keys_authenticate_until_revoked(db: &TestDatabase) {
    let store = db.database();
    let admin = create(db, "admin@example.com", Role::Admin);
    let key = ok(store.create_api_key(NewApiKey {
        name: "Web form".into(),
        prefix: "crm_abcd".into(),
        digest: "key-digest".into(),
        scopes: vec![Scope::CustomersWrite, Scope::ImportsWrite],
        created_by: admin,
    }));
    assert_eq!(key.scopes, vec![Scope::CustomersWrite, Scope::ImportsWrite]);
    assert_eq!(key.last_used_at, None);
    let now = Utc::now();
    let used = ok(store.authenticate_api_key("key-digest", now)).map(|k| k.id);
    assert_eq!(used.as_deref(), Some(key.id.as_str()));
    let listed = ok(store.list_api_keys(&PageRequest {
        limit: 10,
        after: None,
    }));
    assert_eq!(listed.items.len(), 1);
    assert!(listed.items[0].last_used_at.is_some());
    assert!(ok(store.authenticate_api_key("other", now)).is_none());
    ok(store.revoke_api_key(&key.id, now));
    assert!(ok(store.authenticate_api_key("key-digest", now)).is_none());
    assert_eq!(
        store.revoke_api_key(&key.id, now),
        Err(DomainError::NotFound { entity: "API key" })
    );
}

fn teams_check_their_users(db: &TestDatabase) {
    let store = db.database();
    let manager = create(db, "m@example.com", Role::Manager);
    let rep = create(db, "r@example.com", Role::Rep);
    let refused = store.create_team(TeamDraft {
        name: "East".into(),
        manager_ids: vec![rep.clone()],
        member_ids: vec![manager.clone(), "ghost".into()],
    });
    assert_eq!(
        refused,
        Err(DomainError::Validation(vec![
            FieldError::new(
                "/manager_ids/0",
                "not_a_manager",
                "a team manager must have the manager or admin role"
            ),
            FieldError::new("/member_ids/1", "unknown_user", "no user has this id"),
        ]))
    );
    assert_eq!(
        ok(store.list_teams(&PageRequest {
            limit: 10,
            after: None
        }))
        .items
        .len(),
        0
    );
    let team = ok(store.create_team(TeamDraft {
        name: "East".into(),
        manager_ids: vec![manager.clone()],
        member_ids: vec![rep.clone()],
    }));
    assert_eq!(
        (team.manager_ids.clone(), team.member_ids.clone()),
        (vec![manager.clone()], vec![rep.clone()])
    );
    let duplicate = store.create_team(TeamDraft {
        name: "east".into(),
        manager_ids: vec![manager.clone()],
        member_ids: vec![],
    });
    assert!(matches!(
        duplicate,
        Err(DomainError::Conflict {
            code: "duplicate_name",
            ..
        })
    ));
    let renamed = ok(store.replace_team(
        &team.id,
        TeamDraft {
            name: "East China".into(),
            manager_ids: vec![manager],
            member_ids: vec![],
        },
        Some(1),
    ));
    assert_eq!(
        (
            renamed.name.as_str(),
            renamed.version,
            renamed.member_ids.len()
        ),
        ("East China", 2, 0)
    );
    ok(store.delete_team(&team.id));
    assert_eq!(
        store.team(&team.id),
        Err(DomainError::NotFound { entity: "team" })
    );
}

fn visibility_follows_roles_and_managed_teams(db: &TestDatabase) {
    let store = db.database();
    let manager = create(db, "m@example.com", Role::Manager);
    let rep_a = create(db, "a@example.com", Role::Rep);
    let rep_b = create(db, "b@example.com", Role::Rep);
    let rep_c = create(db, "c@example.com", Role::Rep);
    let other_manager = create(db, "m2@example.com", Role::Manager);
    ok(store.create_team(TeamDraft {
        name: "East".into(),
        manager_ids: vec![manager.clone()],
        member_ids: vec![rep_a.clone(), rep_b.clone()],
    }));
    ok(store.create_team(TeamDraft {
        name: "West".into(),
        manager_ids: vec![other_manager],
        member_ids: vec![rep_c.clone(), manager.clone()],
    }));
    let as_user = |user_id: &str, role| Principal::User {
        user_id: user_id.into(),
        role,
    };
    let mut expected = vec![manager.clone(), rep_a.clone(), rep_b.clone()];
    expected.sort();
    assert_eq!(
        ok(store.visibility(&as_user(&manager, Role::Manager))),
        Visibility::OwnersOrPool(expected)
    );
    assert_eq!(
        ok(store.visibility(&as_user(&rep_a, Role::Rep))),
        Visibility::OwnersOrPool(vec![rep_a.clone()])
    );
    assert_eq!(
        ok(store.visibility(&as_user(&rep_a, Role::Admin))),
        Visibility::All
    );
    assert_eq!(
        ok(store.visibility(&Principal::ApiKey {
            key_id: "k".into(),
            scopes: vec![]
        })),
        Visibility::All
    );
}

/// Another server sharing the database: it answers a token's user from what it read within
/// the last second, then sees the deactivation; this server sees it at once.
fn another_server_sees_a_deactivation_within_a_second(db: &TestDatabase) {
    let here = db.database();
    let there = ok(Database::connect(here.url(), &test_options())
        .map_err(|e| DomainError::internal(e.to_string())));
    let id = create(db, "a@example.com", Role::Rep);
    for server in [here, &there] {
        assert_eq!(ok(server.auth_subject(&id)).map(|s| s.active), Some(true));
        assert_eq!(
            server.recent_auth_subject(&id).map(|s| s.active),
            Some(true)
        );
    }
    ok(here.update_user(
        &id,
        UserChanges {
            active: Some(false),
            ..UserChanges::default()
        },
        None,
    ));
    assert_eq!(
        here.recent_auth_subject(&id),
        None,
        "forgotten at the commit"
    );
    assert_eq!(ok(here.auth_subject(&id)).map(|s| s.active), Some(false));
    assert_eq!(
        there.recent_auth_subject(&id).map(|s| s.active),
        Some(true),
        "another server answers from memory until the second is up"
    );
    std::thread::sleep(std::time::Duration::from_millis(1_100));
    assert_eq!(there.recent_auth_subject(&id), None);
    assert_eq!(ok(there.auth_subject(&id)).map(|s| s.active), Some(false));
}

backend_tests!(
    users_are_created_with_unique_emails,
    user_pages_walk_every_user_once,
    stale_version_is_refused_and_changes_nothing,
    password_change_ends_every_session,
    deactivation_ends_sessions_but_renaming_does_not,
    another_server_sees_a_deactivation_within_a_second,
    the_last_admin_stays,
    refresh_tokens_rotate_and_reuse_revokes_the_family,
    expired_refresh_tokens_are_invalid,
    logout_ends_the_family,
    api_keys_authenticate_until_revoked,
    teams_check_their_users,
    visibility_follows_roles_and_managed_teams,
);
