//! What each security level may do, expressed once. Every privileged
//! operation names the permission it needs; nothing is allowed unless a
//! level grants it (deny by default). Staff < Manager < Administrator, each
//! level including everything of the one below.

use crate::{Code, DomainError, DomainResult};

/// Security levels, each including everything of the one below.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SecurityLevel {
    /// Front-desk and clinical staff.
    Staff,
    /// Practice managers.
    Manager,
    /// Administrators.
    Administrator,
}

impl SecurityLevel {
    /// Every level, lowest first.
    pub const ALL: [SecurityLevel; 3] = [SecurityLevel::Staff, SecurityLevel::Manager, SecurityLevel::Administrator];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SecurityLevel::Staff => "staff",
            SecurityLevel::Manager => "manager",
            SecurityLevel::Administrator => "administrator",
        }
    }

    /// The name people read.
    pub fn label(self) -> &'static str {
        match self {
            SecurityLevel::Staff => "Staff",
            SecurityLevel::Manager => "Manager",
            SecurityLevel::Administrator => "Administrator",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> DomainResult<Self> {
        Self::ALL
            .into_iter()
            .find(|level| level.as_str() == text)
            .ok_or_else(|| DomainError::with(Code::InvalidLevel, "level is staff, manager or administrator"))
    }
}

macro_rules! permissions {
    ($($variant:ident = $name:literal, $level:ident, $what:literal;)*) => {
        /// A named permission, e.g. `plans.cancel`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Permission {
            $(#[doc = $what] $variant,)*
        }

        impl Permission {
            /// Every permission.
            pub const ALL: &'static [Permission] = &[$(Permission::$variant,)*];

            /// Its stable name.
            pub fn name(self) -> &'static str {
                match self { $(Permission::$variant => $name,)* }
            }

            /// What it allows, for people.
            pub fn description(self) -> &'static str {
                match self { $(Permission::$variant => $what,)* }
            }

            /// The lowest level that holds it.
            pub fn minimum_level(self) -> SecurityLevel {
                match self { $(Permission::$variant => SecurityLevel::$level,)* }
            }
        }
    };
}

permissions! {
    DashboardView = "dashboard.view", Staff, "View the dashboard";
    Search = "search", Staff, "Perform a search";
    ClientsView = "clients.view", Staff, "View clients and pets";
    ClientsQuickSync = "clients.quick_sync", Staff, "Quick sync of a client with the PMS";
    ClientsEdit = "clients.edit", Staff, "Change a client's app account and pets in the app";
    ClientsInvite = "clients.invite", Staff, "Invite a client to the app";
    PlansAdd = "plans.add", Staff, "Add a plan with limited options";
    PlansView = "plans.view", Staff, "View plan items, usage history, payments, fees and notes";
    UsageSelect = "usage.select", Staff, "Select an item for usage";
    NotesAdd = "notes.add", Staff, "Add notes";
    AgreementsPrint = "agreements.print", Staff, "Print a healthcare agreement";
    ProfileUpdateOwn = "profile.update_own", Staff, "Update own user profile";
    OutboxView = "outbox.view", Staff, "See outgoing notifications and their delivery status";
    ChatView = "chat.view", Staff, "Read and answer conversations with clients";
    NotificationsSend = "notifications.send", Staff, "Send one-way app notifications to a client";
    LoyaltyManage = "loyalty.manage", Staff, "Add paws, Oops, Manually Reward, approve or decline reward requests";
    RequestsManage = "requests.manage", Staff, "Move orders and appointment requests through their steps";
    SelfiesCurate = "selfies.curate", Staff, "Star and heart owners' selfies";
    ReportsMost = "reports.most", Manager, "Most reports";
    RewardsManage = "rewards.manage", Manager, "Manage the reward catalogue";
    CampaignsSend = "campaigns.send", Manager, "Send practice-wide campaigns (Reinvite All, message-center blasts)";
    PlansMarkPaidInFull = "plans.mark_paid_in_full", Manager, "Mark a plan paid in full";
    PlansWaiveInitialFee = "plans.waive_initial_fee", Manager, "Waive the initial fee when adding a plan";
    PlansSkipPaymentMethod = "plans.skip_payment_method", Manager, "Skip the payment method when adding a plan";
    PlansSkipInitialCharge = "plans.skip_initial_charge", Manager, "Skip the electronic initial charge when adding a plan";
    RenewalsMarkPaidInFull = "renewals.mark_paid_in_full", Manager, "Mark a renewal plan paid in full and back";
    PaymentProfilesAdd = "payment_profiles.add", Manager, "Add payment profiles";
    PlansChange = "plans.change", Manager, "Change plans";
    PlansCancel = "plans.cancel", Manager, "Cancel plans";
    RenewalsConfigure = "renewals.configure", Manager, "Manually configure renewals";
    RenewalsActivate = "renewals.activate", Manager, "Activate renewal plans";
    PlansHold = "plans.hold", Manager, "Put plans on hold and remove holds";
    PaymentsChooseMethod = "payments.choose_method", Manager, "Choose another payment method";
    PaymentsMarkPaidExternally = "payments.mark_paid_externally", Manager, "Mark a payment paid externally";
    ReportsAll = "reports.all", Administrator, "All reports";
    AdminTools = "admin.tools", Administrator, "Administrative tools";
    PerformanceManage = "performance.manage", Administrator, "Performance monitoring and goals";
    PaymentProfilesManage = "payment_profiles.manage", Administrator, "Manage and delete payment profiles";
    ClientsMerge = "clients.merge", Administrator, "Merge client records";
    PetsMerge = "pets.merge", Administrator, "Merge pet records";
    ItemsManage = "items.manage", Administrator, "Manage and delete items";
    UsageDelete = "usage.delete", Administrator, "Delete usage history";
    AutoChargeDisable = "auto_charge.disable", Administrator, "Turn off auto charge";
    PaymentsSupplemental = "payments.supplemental", Administrator, "Create a supplemental payment";
    PaymentsCharge = "payments.charge", Administrator, "Charge payments and charge remaining payments";
    NotesEdit = "notes.edit", Administrator, "Edit or delete notes";
    ActivityLogView = "activity_log.view", Administrator, "View the activity log";
    UsersManage = "users.manage", Administrator, "View All Users: add, edit, lock, unlock, delete";
}

impl SecurityLevel {
    /// Whether this level holds `permission`.
    pub fn grants(self, permission: Permission) -> bool {
        self >= permission.minimum_level()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn names_are_unique_and_levels_nest() {
        let names: HashSet<_> = Permission::ALL.iter().map(|p| p.name()).collect();
        assert_eq!(names.len(), Permission::ALL.len());
        for permission in Permission::ALL {
            assert!(SecurityLevel::Administrator.grants(*permission), "{}", permission.name());
            if SecurityLevel::Staff.grants(*permission) {
                assert!(SecurityLevel::Manager.grants(*permission), "{}", permission.name());
            }
        }
        assert!(!SecurityLevel::Staff.grants(Permission::PlansCancel));
        assert!(SecurityLevel::Manager.grants(Permission::PlansCancel));
        assert!(!SecurityLevel::Manager.grants(Permission::UsageDelete));
        assert!(!SecurityLevel::Manager.grants(Permission::ActivityLogView));
    }
}
