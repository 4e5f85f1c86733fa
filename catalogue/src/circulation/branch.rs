//! Branches: the library's service points (中央図書館, 分館, 移動図書館), named by a short
//! code that items and patrons refer to.

use redb::{ReadableDatabase, ReadableTable};
use serde::{Deserialize, Serialize};

use super::{BRANCHES, check_code, check_text, decode, encode};
use crate::error::{Error, Result};
use crate::store::Catalogue;

/// A branch of the library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branch {
    /// Its code, e.g. `chuo`: 1 to 32 lowercase ASCII letters, digits and '-'.
    pub code: String,
    /// Its Japanese name, e.g. 中央図書館 (required).
    pub name_ja: String,
    /// Its English name, e.g. Central Library (may be empty).
    pub name_en: String,
}

/// The stored form of a branch (the code is the key).
#[derive(Serialize, Deserialize)]
struct BranchRow {
    name_ja: String,
    name_en: String,
}

impl Catalogue {
    /// Creates the branch, or renames it if its code exists. Branches are never deleted:
    /// items and patrons refer to them.
    pub fn put_branch(&self, branch: &Branch) -> Result<Branch> {
        let code = check_code("branch code", &branch.code)?;
        let row = BranchRow {
            name_ja: check_text("branch name", &branch.name_ja, true)?,
            name_en: check_text("branch English name", &branch.name_en, false)?,
        };
        let txn = self.db.begin_write()?;
        txn.open_table(BRANCHES)?.insert(code.as_str(), encode(&row)?.as_slice())?;
        txn.commit()?;
        Ok(Branch { code, name_ja: row.name_ja, name_en: row.name_en })
    }

    /// The branch with this code.
    pub fn branch(&self, code: &str) -> Result<Option<Branch>> {
        let txn = self.db.begin_read()?;
        get_branch(&txn.open_table(BRANCHES)?, code.trim())
    }

    /// Every branch, ordered by code.
    pub fn branches(&self) -> Result<Vec<Branch>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(BRANCHES)?;
        let mut out = Vec::new();
        for row in table.iter()? {
            let (code, value) = row?;
            let row: BranchRow = decode("branch", code.value(), value.value())?;
            out.push(Branch { code: code.value().to_string(), name_ja: row.name_ja, name_en: row.name_en });
        }
        Ok(out)
    }
}

/// The branch with this code, from any transaction.
pub(crate) fn get_branch(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    code: &str,
) -> Result<Option<Branch>> {
    let value = table.get(code)?;
    let Some(value) = value else { return Ok(None) };
    let row: BranchRow = decode("branch", code, value.value())?;
    Ok(Some(Branch { code: code.to_string(), name_ja: row.name_ja, name_en: row.name_en }))
}

/// The branch with this code, which must exist.
pub(crate) fn existing_branch(table: &impl ReadableTable<&'static str, &'static [u8]>, code: &str) -> Result<Branch> {
    get_branch(table, code)?.ok_or_else(|| Error::UnknownBranch(code.to_string()))
}
