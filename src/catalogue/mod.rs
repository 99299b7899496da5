//! The migration catalogue: data in `migrations/`, embedded at build time.

pub mod codes;
pub mod compile;
pub mod conditions;
pub mod model;
pub mod needle;
pub mod registry;
pub mod release;
pub mod relpath;
pub mod select;

pub use model::Level;
pub use registry::{Catalogue, Selection};
pub use release::{ComponentVersion, Release};
pub use select::{Decision, Window, chosen_removal, decide};
