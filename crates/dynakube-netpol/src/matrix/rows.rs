//! The row ids of the traffic reference, as a closed set: a mistyped id does not compile.

use std::fmt;

use super::Direction;

macro_rules! row_ids {
    ($($id:ident),* $(,)?) => {
        /// A row of the traffic reference: `I1`–`I17` are connections to Dynatrace pods,
        /// `E1`–`E30` connections from them. Ids sort in the reference's order, ingress first.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum RowId {
            $(
                #[doc = concat!("Row `", stringify!($id), "`.")]
                $id,
            )*
        }

        impl RowId {
            /// Every id, in the reference's order.
            pub(crate) const ALL: &'static [RowId] = &[$(RowId::$id),*];

            /// The id as the reference writes it (`I1`, `E30`).
            pub(crate) fn name(self) -> &'static str {
                match self {
                    $(RowId::$id => stringify!($id),)*
                }
            }
        }
    };
}

row_ids!(
    I1, I2, I3, I4, I5, I6, I7, I8, I9, I10, I11, I12, I13, I14, I15, I16, I17, E1, E2, E3, E4, E5,
    E6, E7, E8, E9, E10, E11, E12, E13, E14, E15, E16, E17, E18, E19, E20, E21, E22, E23, E24, E25,
    E26, E27, E28, E29, E30,
);

impl RowId {
    /// The direction, seen from the Dynatrace component: `I` rows are ingress.
    pub const fn direction(self) -> Direction {
        if (self as u8) < (RowId::E1 as u8) {
            Direction::Ingress
        } else {
            Direction::Egress
        }
    }

    /// The id of this name, such as `E8`.
    pub fn parse(name: &str) -> Option<Self> {
        RowId::ALL.iter().copied().find(|id| id.name() == name)
    }
}

impl fmt::Display for RowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Row ids joined with `, `, in the reference's order.
pub(crate) fn joined<'a>(ids: impl IntoIterator<Item = &'a RowId>) -> String {
    let mut ids: Vec<RowId> = ids.into_iter().copied().collect();
    ids.sort();
    ids.dedup();
    ids.iter()
        .map(|id| id.name())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_as_the_reference() {
        assert_eq!(RowId::ALL.len(), 17 + 30);
        let names: Vec<&str> = RowId::ALL.iter().map(|id| id.name()).collect();
        assert_eq!(names[..3], ["I1", "I2", "I3"]);
        assert_eq!(names[16..19], ["I17", "E1", "E2"]);
        assert!(RowId::I10 < RowId::I11 && RowId::I17 < RowId::E1 && RowId::E9 < RowId::E10);
        assert_eq!(RowId::parse("E30"), Some(RowId::E30));
        assert_eq!(RowId::E4.direction(), Direction::Egress);
        assert_eq!(joined(&[RowId::E11, RowId::I11, RowId::E2]), "I11, E2, E11");
    }
}
