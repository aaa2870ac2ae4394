//! Communication preferences: what a household agreed to receive, read and
//! changed by the owner (app, preference centre, unsubscribe link) and by
//! staff, and checked by the workers when each delivery is made.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, sea_query::OnConflict};
use uuid::Uuid;

use crate::{
    Actor, DomainError, DomainResult, Origin, Platform, Scope,
    activity::Entry,
    db::entities::{client, communication_preference},
    deliveries::outbox::{Channel, Purpose},
};

/// What a household agreed to receive; everything is on until changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Preferences {
    /// Surveys after a visit.
    pub post_visit_surveys: bool,
    /// Reminders of due services and appointments.
    pub postcard_reminders: bool,
    /// Emails (other than account mail: verification, password reset).
    pub email: bool,
    /// Texts, including two-way texting with the practice.
    pub two_way_texts: bool,
    /// Push notifications in the app.
    pub push: bool,
}

impl Default for Preferences {
    fn default() -> Self {
        Self { post_visit_surveys: true, postcard_reminders: true, email: true, two_way_texts: true, push: true }
    }
}

impl From<&communication_preference::Model> for Preferences {
    fn from(row: &communication_preference::Model) -> Self {
        Self {
            post_visit_surveys: row.post_visit_surveys,
            postcard_reminders: row.postcard_reminders,
            email: row.email,
            two_way_texts: row.two_way_texts,
            push: row.push,
        }
    }
}

/// A change: only the fields given are changed.
#[derive(Debug, Clone, Copy, Default)]
pub struct PreferenceChange {
    /// Surveys after a visit.
    pub post_visit_surveys: Option<bool>,
    /// Reminders.
    pub postcard_reminders: Option<bool>,
    /// Emails.
    pub email: Option<bool>,
    /// Texts.
    pub two_way_texts: Option<bool>,
    /// Push notifications.
    pub push: Option<bool>,
}

impl PreferenceChange {
    fn apply(self, to: Preferences) -> Preferences {
        Preferences {
            post_visit_surveys: self.post_visit_surveys.unwrap_or(to.post_visit_surveys),
            postcard_reminders: self.postcard_reminders.unwrap_or(to.postcard_reminders),
            email: self.email.unwrap_or(to.email),
            two_way_texts: self.two_way_texts.unwrap_or(to.two_way_texts),
            push: self.push.unwrap_or(to.push),
        }
    }
}

/// A household's preferences (`NotFound` outside the scope).
pub async fn get(platform: &Platform, scope: Scope, client_id: Uuid) -> DomainResult<Preferences> {
    get_in(&platform.db, scope, client_id).await
}

/// [`get`] on `conn`: within a service's transaction.
pub(crate) async fn get_in(conn: &impl ConnectionTrait, scope: Scope, client_id: Uuid) -> DomainResult<Preferences> {
    household(conn, scope, client_id).await?;
    Ok(communication_preference::Entity::find_by_id(client_id)
        .one(conn)
        .await?
        .map_or_else(Preferences::default, |row| Preferences::from(&row)))
}

async fn household(conn: &impl ConnectionTrait, scope: Scope, client_id: Uuid) -> DomainResult<client::Model> {
    client::Entity::find_by_id(client_id)
        .filter(client::Column::PracticeId.eq(scope.practice_id))
        .one(conn)
        .await?
        .ok_or(DomainError::NotFound)
}

/// Who changes preferences.
#[derive(Debug, Clone, Copy)]
pub enum ChangedBy<'a> {
    /// The owner, in the app.
    Owner,
    /// Someone holding the household's emailed link (preference centre, unsubscribe).
    Link,
    /// A staff member (written to the activity log).
    Staff(&'a Actor, &'a Origin),
}

/// Changes a household's preferences; returns the new ones.
pub async fn update(
    platform: &Platform,
    scope: Scope,
    client_id: Uuid,
    change: PreferenceChange,
    by: ChangedBy<'_>,
) -> DomainResult<Preferences> {
    let now = platform.clock.now();
    let txn = platform.begin_write().await?;
    let old = get_in(&txn, scope, client_id).await?;
    let new = change.apply(old);
    let updated_by = match by {
        ChangedBy::Owner => "owner".to_owned(),
        ChangedBy::Link => "link".to_owned(),
        ChangedBy::Staff(actor, _) => actor.name.chars().take(100).collect(),
    };
    let row = communication_preference::ActiveModel {
        client_id: Set(client_id),
        practice_id: Set(scope.practice_id),
        post_visit_surveys: Set(new.post_visit_surveys),
        postcard_reminders: Set(new.postcard_reminders),
        email: Set(new.email),
        two_way_texts: Set(new.two_way_texts),
        push: Set(new.push),
        updated_by: Set(updated_by),
        updated_at: Set(now),
    };
    use communication_preference::Column as C;
    communication_preference::Entity::insert(row)
        .on_conflict(
            OnConflict::column(C::ClientId)
                .update_columns([
                    C::PostVisitSurveys,
                    C::PostcardReminders,
                    C::Email,
                    C::TwoWayTexts,
                    C::Push,
                    C::UpdatedBy,
                    C::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec(&txn)
        .await?;
    if let ChangedBy::Staff(actor, origin) = by {
        let entry = Entry::new("client.preferences", actor, origin)
            .target("client", client_id)
            .detail(serde_json::json!({ "before": old, "after": new }));
        entry.record(&txn, platform, scope).await?;
    }
    txn.commit().await?;
    Ok(new)
}

/// The household a preference link names (`NotFound` for a forged or
/// mangled link, or a household since deleted).
pub async fn link_household(platform: &Platform, token: &str) -> DomainResult<client::Model> {
    let client_id =
        crate::deliveries::links::verify(platform, crate::deliveries::links::LinkPurpose::Preferences, token).await?;
    client::Entity::find_by_id(client_id).one(&platform.db).await?.ok_or(DomainError::NotFound)
}

/// What the workers need to know of a household when sending to it.
#[derive(Debug, Clone, Copy)]
pub struct Consent {
    /// Its preferences.
    pub preferences: Preferences,
    /// Deactivated by the practice or inactive in the PMS.
    pub disabled: bool,
}

impl Consent {
    /// Why a delivery of `purpose` by `channel` must not be sent, if it must not.
    pub fn refusal(&self, channel: Channel, purpose: Purpose) -> Option<&'static str> {
        if !purpose.is_optional() {
            return None;
        }
        let prefs = &self.preferences;
        match channel {
            Channel::Push if self.disabled => return Some("the account is disabled: no push notifications"),
            Channel::Push if !prefs.push => return Some("the household turned push notifications off"),
            Channel::Email if !prefs.email => return Some("the household unsubscribed from email"),
            Channel::Sms if !prefs.two_way_texts => return Some("the household turned texts off"),
            _ => {}
        }
        match purpose {
            Purpose::Blast if self.disabled => Some("the account is disabled: no message-center blasts"),
            Purpose::Reminder if !prefs.postcard_reminders => Some("the household unsubscribed from reminders"),
            Purpose::Survey if !prefs.post_visit_surveys => Some("the household unsubscribed from post-visit surveys"),
            _ => None,
        }
    }
}

/// The consent of each household in `client_ids` that still exists, read
/// in one query each for preferences and households.
pub async fn consents(platform: &Platform, client_ids: &[Uuid]) -> DomainResult<HashMap<Uuid, Consent>> {
    let mut out = HashMap::new();
    for chunk in client_ids.chunks(500) {
        let households =
            client::Entity::find().filter(client::Column::Id.is_in(chunk.to_vec())).all(&platform.db).await?;
        let preferences: HashMap<Uuid, Preferences> = communication_preference::Entity::find()
            .filter(communication_preference::Column::ClientId.is_in(chunk.to_vec()))
            .all(&platform.db)
            .await?
            .iter()
            .map(|row| (row.client_id, Preferences::from(row)))
            .collect();
        for household in households {
            let consent = Consent {
                preferences: preferences.get(&household.id).copied().unwrap_or_default(),
                disabled: household.account_status == crate::households::clients::AccountStatus::Disabled,
            };
            out.insert(household.id, consent);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_mail_always_goes_and_each_preference_stops_its_own() {
        let nothing = PreferenceChange {
            post_visit_surveys: Some(false),
            postcard_reminders: Some(false),
            email: Some(false),
            two_way_texts: Some(false),
            push: Some(false),
        };
        let all_off = Consent { preferences: nothing.apply(Preferences::default()), disabled: true };
        for channel in Channel::ALL {
            assert_eq!(all_off.refusal(channel, Purpose::Account), None);
        }
        let on = Consent { preferences: Preferences::default(), disabled: false };
        for channel in Channel::ALL {
            for purpose in Purpose::ALL {
                assert_eq!(on.refusal(channel, purpose), None);
            }
        }
        let no_reminders = Consent {
            preferences: PreferenceChange { postcard_reminders: Some(false), ..Default::default() }
                .apply(Preferences::default()),
            disabled: false,
        };
        assert!(no_reminders.refusal(Channel::Email, Purpose::Reminder).is_some());
        assert_eq!(no_reminders.refusal(Channel::Email, Purpose::Invitation), None);
        let disabled = Consent { preferences: Preferences::default(), disabled: true };
        assert!(disabled.refusal(Channel::Push, Purpose::Notification).is_some());
        // A disabled account active in the PMS still gets its reminders by email and text.
        assert_eq!(disabled.refusal(Channel::Email, Purpose::Reminder), None);
        assert_eq!(disabled.refusal(Channel::Sms, Purpose::Reminder), None);
    }
}
