//! Who may call which operation: one table, keyed by operation id, consulted by the
//! authorization middleware for every request and by the OpenAPI generator for every operation.
//! An operation missing from the table is refused to everyone (and fails a test).

use crm_domain::identity::{Principal, Role, Scope};
use crm_domain::DomainError;

/// Which people may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum People {
    /// Anyone, without credentials.
    Anyone,
    /// Any signed-in user.
    AnyUser,
    /// Users with one of these roles.
    Roles(&'static [Role]),
}

/// The access rule of one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rule {
    pub(crate) people: People,
    /// API keys may call the operation when they carry this scope; `None`: no API key may.
    pub(crate) key_scope: Option<Scope>,
}

const ADMIN: &[Role] = &[Role::Admin];
const ADMIN_OR_MANAGER: &[Role] = &[Role::Admin, Role::Manager];

impl Rule {
    const fn new(people: People, key_scope: Option<Scope>) -> Self {
        Self { people, key_scope }
    }

    /// Whether the operation needs credentials.
    pub(crate) fn is_public(self) -> bool {
        self.people == People::Anyone
    }

    /// `Forbidden` unless `principal` may call the operation.
    pub(crate) fn check(self, principal: &Principal) -> Result<(), DomainError> {
        let allowed = match (principal, self.people) {
            (_, People::Anyone) => true,
            (Principal::User { .. }, People::AnyUser) => true,
            (Principal::User { role, .. }, People::Roles(roles)) => roles.contains(role),
            (Principal::ApiKey { scopes, .. }, _) => self
                .key_scope
                .is_some_and(|needed| scopes.contains(&needed)),
        };
        if allowed {
            Ok(())
        } else {
            Err(DomainError::Forbidden)
        }
    }
}

/// The rule of the operation with this id; `None` for an operation nobody wrote a rule for.
pub(crate) fn rule(operation_id: &str) -> Option<Rule> {
    use People::*;
    let rule = match operation_id {
        "get_health" | "get_readiness" | "get_metrics" | "get_openapi" | "get_meta" => {
            Rule::new(Anyone, None)
        }
        "create_session" | "refresh_session" | "delete_session" => Rule::new(Anyone, None),
        "get_me" => Rule::new(AnyUser, Some(Scope::UsersRead)),
        "list_users" | "get_user" | "list_teams" | "get_team" => {
            Rule::new(Roles(ADMIN), Some(Scope::UsersRead))
        }
        "create_user" | "update_user" | "create_team" | "update_team" | "delete_team" => {
            Rule::new(Roles(ADMIN), None)
        }
        "create_api_key" | "list_api_keys" | "delete_api_key" => Rule::new(Roles(ADMIN), None),
        "list_customers"
        | "get_customer"
        | "list_customer_history"
        | "list_contacts"
        | "list_customer_contacts"
        | "get_contact"
        | "get_customer_overview"
        | "get_customer_score" => Rule::new(AnyUser, Some(Scope::CustomersRead)),
        "create_customer"
        | "create_customer_batch"
        | "update_customer"
        | "create_contact"
        | "update_contact"
        | "delete_contact" => Rule::new(AnyUser, Some(Scope::CustomersWrite)),
        "create_customer_merge" | "undo_customer_merge" => {
            Rule::new(Roles(ADMIN_OR_MANAGER), Some(Scope::CustomersWrite))
        }
        "get_customer_merge" => Rule::new(Roles(ADMIN_OR_MANAGER), Some(Scope::CustomersRead)),
        "delete_customer" | "assign_customer" => {
            Rule::new(Roles(ADMIN_OR_MANAGER), Some(Scope::CustomersWrite))
        }
        "claim_customer" | "release_customer" => Rule::new(AnyUser, None),
        "restore_customer" => Rule::new(Roles(ADMIN), None),
        "list_lead_sources" => Rule::new(AnyUser, Some(Scope::CustomersRead)),
        "create_lead_source" | "update_lead_source" => Rule::new(Roles(ADMIN), None),
        "list_behaviors" | "get_scoring_settings" => Rule::new(AnyUser, Some(Scope::CustomersRead)),
        "create_behavior" | "update_behavior" | "update_scoring_settings" => {
            Rule::new(Roles(ADMIN), None)
        }
        "list_products" | "get_product" => Rule::new(AnyUser, Some(Scope::OpportunitiesRead)),
        "create_product" | "update_product" => Rule::new(Roles(ADMIN), None),
        "list_pipelines" | "get_pipeline" => Rule::new(AnyUser, Some(Scope::OpportunitiesRead)),
        "list_opportunities" | "get_opportunity" | "list_opportunity_history" => {
            Rule::new(AnyUser, Some(Scope::OpportunitiesRead))
        }
        "create_import" | "get_import" | "list_import_results" => {
            Rule::new(AnyUser, Some(Scope::ImportsWrite))
        }
        "create_opportunity" | "update_opportunity" | "create_stage_change" => {
            Rule::new(AnyUser, Some(Scope::OpportunitiesWrite))
        }
        "create_pipeline" | "update_pipeline" | "create_stage" | "update_stage"
        | "reorder_stages" | "delete_stage" => Rule::new(Roles(ADMIN), None),
        "list_custom_fields" | "get_custom_field" | "get_custom_field_schema" => {
            Rule::new(AnyUser, Some(Scope::CustomersRead))
        }
        "list_activities" | "get_activity" | "list_follow_ups" => {
            Rule::new(AnyUser, Some(Scope::ActivitiesRead))
        }
        "get_follow_up_calendar" => Rule::new(Anyone, None),
        "create_calendar_feed" | "delete_calendar_feed" => Rule::new(AnyUser, None),
        "create_activity" | "update_activity" | "delete_activity" => {
            Rule::new(AnyUser, Some(Scope::ActivitiesWrite))
        }
        "create_custom_field"
        | "update_custom_field"
        | "delete_custom_field"
        | "restore_custom_field" => Rule::new(Roles(ADMIN), None),
        _ => return None,
    };
    Some(rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role) -> Principal {
        Principal::User {
            user_id: "u".into(),
            role,
        }
    }

    #[test]
    fn admin_only_operations_refuse_others() {
        let rule = rule("create_user").unwrap_or(Rule::new(People::Anyone, None));
        assert_eq!(rule.check(&user(Role::Admin)), Ok(()));
        assert_eq!(
            rule.check(&user(Role::Manager)),
            Err(DomainError::Forbidden)
        );
        assert_eq!(rule.check(&user(Role::Rep)), Err(DomainError::Forbidden));
        let key = Principal::ApiKey {
            key_id: "k".into(),
            scopes: Scope::ALL.to_vec(),
        };
        assert_eq!(rule.check(&key), Err(DomainError::Forbidden));
    }

    #[test]
    fn keys_need_the_operations_scope() {
        let rule = rule("list_users").unwrap_or(Rule::new(People::Anyone, None));
        let without = Principal::ApiKey {
            key_id: "k".into(),
            scopes: vec![Scope::CustomersRead],
        };
        let with = Principal::ApiKey {
            key_id: "k".into(),
            scopes: vec![Scope::UsersRead],
        };
        assert_eq!(rule.check(&without), Err(DomainError::Forbidden));
        assert_eq!(rule.check(&with), Ok(()));
    }

    #[test]
    fn unknown_operations_have_no_rule() {
        assert_eq!(rule("delete_everything"), None);
    }
}
