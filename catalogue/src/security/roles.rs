//! Who may do what: roles, the functions of the staff desk, each tenant's switches of
//! functions per role, and [`may`], the one place authorisation is decided.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::security::accounts::{AccountId, Username};
use crate::tenant::TenantCode;

/// A staff member's role in one library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the library's account: every function, always (the switches do not apply).
    TenantAdmin,
    /// Catalogues: records, items, imports.
    Cataloguer,
    /// Works the desk: checkout, checkin, renewals, holds, patrons.
    Circulation,
    /// Looks, changes nothing.
    ReadOnly,
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 4] = [Role::TenantAdmin, Role::Cataloguer, Role::Circulation, Role::ReadOnly];

    /// The role's name in files and URLs: `tenant_admin`, `cataloguer`, `circulation`,
    /// `read_only`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::TenantAdmin => "tenant_admin",
            Role::Cataloguer => "cataloguer",
            Role::Circulation => "circulation",
            Role::ReadOnly => "read_only",
        }
    }

    /// The functions a role has in a library that never changed its switches.
    pub fn default_functions(self) -> FunctionSet {
        use Function::*;
        match self {
            Role::TenantAdmin => FunctionSet::tenant_all(),
            Role::Cataloguer => FunctionSet::of(&[View, CatalogueEdit, Import, Reports]),
            Role::Circulation => FunctionSet::of(&[View, Circulation, Holds, Patrons]),
            Role::ReadOnly => FunctionSet::of(&[View]),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = Error;

    fn from_str(s: &str) -> Result<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| {
            Error::invalid("role", format!("{:?} is not a role", s.chars().take(32).collect::<String>()))
        })
    }
}

/// A function of the system that authorisation is decided for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Function {
    /// The staff pages and staff API reads: records with their items, item status, the
    /// circulation state of a copy (never a patron).
    View,
    /// Create, change and delete records and items.
    CatalogueEdit,
    /// Bulk imports: MARC files, item and patron CSV.
    Import,
    /// Checkout, checkin, renewal.
    Circulation,
    /// Place, change and cancel holds for patrons.
    Holds,
    /// Patron records: personal data, cards, blocks.
    Patrons,
    /// Statistics and reports (aggregate counts).
    Reports,
    /// Read the library's audit and access logs.
    Audit,
    /// The library's staff accounts and these switches. Only tenant admins (and operators)
    /// have it; it cannot be switched on for another role, or it would hand out every other.
    StaffAdmin,
    /// Create, list and delete libraries. Operators only; never a library's function.
    ManageTenants,
}

impl Function {
    /// Every function.
    pub const ALL: [Function; 10] = [
        Function::View,
        Function::CatalogueEdit,
        Function::Import,
        Function::Circulation,
        Function::Holds,
        Function::Patrons,
        Function::Reports,
        Function::Audit,
        Function::StaffAdmin,
        Function::ManageTenants,
    ];

    /// The function's name: `view`, `catalogue_edit`, `import`, `circulation`, `holds`,
    /// `patrons`, `reports`, `audit`, `staff_admin`, `manage_tenants`.
    pub fn as_str(self) -> &'static str {
        match self {
            Function::View => "view",
            Function::CatalogueEdit => "catalogue_edit",
            Function::Import => "import",
            Function::Circulation => "circulation",
            Function::Holds => "holds",
            Function::Patrons => "patrons",
            Function::Reports => "reports",
            Function::Audit => "audit",
            Function::StaffAdmin => "staff_admin",
            Function::ManageTenants => "manage_tenants",
        }
    }

    /// Whether a tenant admin may switch it on or off for a role (every library function
    /// but `staff_admin`; `manage_tenants` is not a library's function).
    pub fn is_switchable(self) -> bool {
        !matches!(self, Function::StaffAdmin | Function::ManageTenants)
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Function {
    type Err = Error;

    fn from_str(s: &str) -> Result<Function> {
        Function::ALL.into_iter().find(|f| f.as_str() == s).ok_or_else(|| {
            Error::invalid("function", format!("{:?} is not a function", s.chars().take(32).collect::<String>()))
        })
    }
}

/// A set of functions.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FunctionSet(u32);

impl FunctionSet {
    /// The empty set.
    pub fn empty() -> Self {
        Self(0)
    }

    /// The set of `functions`.
    pub fn of(functions: &[Function]) -> Self {
        Self(functions.iter().fold(0, |bits, f| bits | f.bit()))
    }

    /// Every library function (all but `manage_tenants`).
    pub fn tenant_all() -> Self {
        Self::of(&Function::ALL).without(Function::ManageTenants)
    }

    /// Whether `function` is in the set.
    pub fn contains(self, function: Function) -> bool {
        self.0 & function.bit() != 0
    }

    /// The set with `function`.
    pub fn with(self, function: Function) -> Self {
        Self(self.0 | function.bit())
    }

    /// The set without `function`.
    pub fn without(self, function: Function) -> Self {
        Self(self.0 & !function.bit())
    }

    /// The functions, in [`Function::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Function> {
        Function::ALL.into_iter().filter(move |f| self.contains(*f))
    }
}

impl fmt::Debug for FunctionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl Serialize for FunctionSet {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for FunctionSet {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let functions = Vec::<Function>::deserialize(deserializer)?;
        Ok(FunctionSet::of(&functions))
    }
}

/// One library's switches: which functions each role has. A tenant admin has every library
/// function whatever the switches say; `staff_admin` is only ever the tenant admin's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolePolicy {
    /// The library it belongs to: [`may`] refuses everything when asked about another one.
    pub tenant: TenantCode,
    cataloguer: FunctionSet,
    circulation: FunctionSet,
    read_only: FunctionSet,
}

impl RolePolicy {
    /// The switches of a library that never changed them ([`Role::default_functions`]).
    pub fn defaults(tenant: &TenantCode) -> Self {
        Self {
            tenant: tenant.clone(),
            cataloguer: Role::Cataloguer.default_functions(),
            circulation: Role::Circulation.default_functions(),
            read_only: Role::ReadOnly.default_functions(),
        }
    }

    /// The functions `role` has in this library.
    pub fn functions(&self, role: Role) -> FunctionSet {
        match role {
            Role::TenantAdmin => FunctionSet::tenant_all(),
            Role::Cataloguer => self.cataloguer.without(Function::StaffAdmin).without(Function::ManageTenants),
            Role::Circulation => self.circulation.without(Function::StaffAdmin).without(Function::ManageTenants),
            Role::ReadOnly => self.read_only.without(Function::StaffAdmin).without(Function::ManageTenants),
        }
    }

    /// Switches `function` on or off for `role`. The tenant admin's functions and the
    /// functions that are not switchable ([`Function::is_switchable`]) are refused.
    pub fn set(&mut self, role: Role, function: Function, on: bool) -> Result<()> {
        if !function.is_switchable() {
            return Err(Error::invalid("function", format!("{function} cannot be switched for a role")));
        }
        let set = match role {
            Role::TenantAdmin => {
                return Err(Error::invalid("role", "a tenant admin always has every function"));
            }
            Role::Cataloguer => &mut self.cataloguer,
            Role::Circulation => &mut self.circulation,
            Role::ReadOnly => &mut self.read_only,
        };
        *set = if on { set.with(function) } else { set.without(function) };
        Ok(())
    }
}

/// Who is acting: an operator of the deployment, or a staff member of one library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// An operator: runs the deployment, belongs to no library.
    Operator {
        /// The operator's name.
        username: Username,
    },
    /// A staff member of one library, with the functions their role has there (read from
    /// the library's [`RolePolicy`] when the session was looked up).
    Staff {
        /// Their library.
        tenant: TenantCode,
        /// Their name in that library.
        username: Username,
        /// Their role.
        role: Role,
        /// The functions the role has in the library now.
        functions: FunctionSet,
    },
}

impl Principal {
    /// The account behind the principal.
    pub fn account(&self) -> AccountId {
        match self {
            Principal::Operator { username } => AccountId::operator(username.clone()),
            Principal::Staff { tenant, username, .. } => AccountId::staff(tenant.clone(), username.clone()),
        }
    }
}

/// `operator:<name>` or `<tenant>:<name>`, as written in the audit and access logs.
impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.account().fmt(f)
    }
}

/// Whether `principal` may use `function` in the library `tenant`: the single place
/// authorisation is decided.
///
/// - A staff member may act only in their own library (a session of another library is
///   refused whatever its role), and only with a function their role has there: a tenant
///   admin has every library function, other roles what the library's switches give them.
///   No staff member may `manage_tenants`.
/// - An operator may `manage_tenants` (create, list, delete libraries) and `staff_admin` in
///   every library (create a library's first tenant admin, reset a locked-out person's
///   credentials) and nothing else: operators run the service and do not read or change a
///   library's catalogue, circulation, patrons, reports or logs (ISO/IEC 27017 separates the
///   provider's administrators from the customer's data). A library that needs help gives
///   an operator a staff account of its own.
pub fn may(principal: &Principal, tenant: &TenantCode, function: Function) -> bool {
    match principal {
        Principal::Operator { .. } => matches!(function, Function::ManageTenants | Function::StaffAdmin),
        Principal::Staff { tenant: home, role, functions, .. } => {
            if home != tenant || function == Function::ManageTenants {
                return false;
            }
            match role {
                Role::TenantAdmin => true,
                _ => function != Function::StaffAdmin && functions.contains(function),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() -> Result<()> {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>()?, role);
            assert_eq!(serde_json::to_string(&role).ok(), Some(format!("\"{role}\"")));
        }
        for function in Function::ALL {
            assert_eq!(function.as_str().parse::<Function>()?, function);
        }
        let set = FunctionSet::of(&[Function::Holds, Function::View]);
        let json = serde_json::to_string(&set).unwrap_or_default();
        assert_eq!(json, r#"["view","holds"]"#);
        assert_eq!(serde_json::from_str::<FunctionSet>(&json).ok(), Some(set));
        Ok(())
    }

    #[test]
    fn switches() -> Result<()> {
        let mut policy = RolePolicy::defaults(&"city".parse()?);
        policy.set(Role::ReadOnly, Function::Reports, true)?;
        policy.set(Role::Circulation, Function::Patrons, false)?;
        assert!(policy.functions(Role::ReadOnly).contains(Function::Reports));
        assert!(!policy.functions(Role::Circulation).contains(Function::Patrons));
        assert!(policy.set(Role::ReadOnly, Function::StaffAdmin, true).is_err());
        assert!(policy.set(Role::TenantAdmin, Function::View, false).is_err());
        assert!(policy.set(Role::Cataloguer, Function::ManageTenants, true).is_err());
        Ok(())
    }
}
