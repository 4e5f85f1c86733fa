//! A record's copies and their availability, read from the catalogue's circulation tables.

use crate::error::ApiError;
use crate::lang::Lang;
use crate::record::{Availability, BranchCount, ItemView};
use crate::server::Library;

/// Names the values of the holding-branch and availability facets in `lang`: a branch's
/// Japanese name, or in English its English name when it has one. The index holds branch
/// codes only; the names are the catalogue's as they are now.
pub(crate) fn name_branch_facets(
    library: &Library,
    facets: &mut indexer::FacetCounts,
    lang: Lang,
) -> Result<(), ApiError> {
    if facets.branch.is_empty() && facets.available.is_empty() {
        return Ok(());
    }
    let branches = library.catalogue.branches()?;
    let name = |code: &str| {
        let branch = branches.iter().find(|b| b.code == code)?;
        let english = lang == Lang::En && !branch.name_en.is_empty();
        Some(if english { branch.name_en.clone() } else { branch.name_ja.clone() })
    };
    facets.name_branches(name, lang.pick("すべての館", "Any branch"));
    Ok(())
}

/// The counts of a record's copies, overall and per branch.
pub(crate) fn availability(library: &Library, bib_id: u64) -> Result<Availability, ApiError> {
    Ok(counts(library.catalogue.availability(bib_id)?))
}

/// The counts and each copy (never who borrowed it).
pub(crate) fn holdings(library: &Library, bib_id: u64) -> Result<(Availability, Vec<ItemView>), ApiError> {
    let availability = counts(library.catalogue.availability(bib_id)?);
    let items = library
        .catalogue
        .holdings(bib_id)?
        .into_iter()
        .map(|holding| ItemView {
            status: if holding.item.is_reference() && holding.item.status == catalogue::ItemStatus::Available {
                "reference".to_owned()
            } else {
                holding.item.status.as_str().to_owned()
            },
            barcode: holding.item.barcode,
            branch: holding.item.branch,
            branch_name_ja: holding.branch_name_ja,
            branch_name_en: holding.branch_name_en,
            location: holding.item.location,
            call_number: holding.item.call_number,
            due: holding.due.map(|d| d.to_string()),
        })
        .collect();
    Ok((availability, items))
}

fn counts(availability: catalogue::Availability) -> Availability {
    Availability {
        available: availability.available,
        total: availability.total,
        holds: availability.holds,
        branches: availability
            .branches
            .into_iter()
            .map(|b| BranchCount {
                branch: b.branch,
                name_ja: b.name_ja,
                name_en: b.name_en,
                available: b.available,
                total: b.total,
            })
            .collect(),
    }
}
