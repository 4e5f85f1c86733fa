//! A record's copies and their availability, read from the catalogue's circulation tables.

use crate::error::ApiError;
use crate::record::{Availability, BranchCount, ItemView};
use crate::server::Library;

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
