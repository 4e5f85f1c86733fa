//! Agreement with catalogued readings in ../shared/fixtures.
