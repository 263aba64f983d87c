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
    pub(crate) const fn direction(self) -> Direction {
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

/// A row id as written (`E9`); anything else is refused with the nearest id, so that `--ack`,
/// the cluster profile's `acknowledge` and `dynakube-netpol matrix` say the same.
impl std::str::FromStr for RowId {
    type Err = crate::values::Invalid;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        if let Some(id) = RowId::parse(name) {
            return Ok(id);
        }
        let range = |direction| {
            let ids: Vec<&str> = RowId::ALL
                .iter()
                .filter(|id| id.direction() == direction)
                .map(|id| id.name())
                .collect();
            format!(
                "{} to {}",
                ids.first().unwrap_or(&""),
                ids.last().unwrap_or(&"")
            )
        };
        let mut reason = format!(
            "is not a row of the traffic matrix ({}, {})",
            range(Direction::Ingress),
            range(Direction::Egress)
        );
        if let Some(near) = crate::input::nearest(name, RowId::ALL.iter().map(|id| id.name())) {
            reason.push_str(&format!("; did you mean `{near}`?"));
        }
        Err(crate::values::Invalid(reason))
    }
}

impl<'de> serde::Deserialize<'de> for RowId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(|e: crate::values::Invalid| {
            serde::de::Error::custom(format!("`{}` {e}", crate::values::Shown(&name)))
        })
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

    #[test]
    fn unknown_ids_are_refused_with_the_nearest() {
        assert_eq!("E9".parse::<RowId>(), Ok(RowId::E9));
        let refused = |name: &str| name.parse::<RowId>().unwrap_err().to_string();
        assert_eq!(
            refused("e9"),
            "is not a row of the traffic matrix (I1 to I17, E1 to E30); did you mean `E9`?"
        );
        assert!(
            refused("E 10").ends_with("did you mean `E10`?"),
            "{}",
            refused("E 10")
        );
        assert_eq!(
            refused("X"),
            "is not a row of the traffic matrix (I1 to I17, E1 to E30)"
        );
        let read: Result<Vec<RowId>, _> = serde_yaml::from_str("[E9, I11]");
        assert_eq!(read.unwrap(), [RowId::E9, RowId::I11]);
        let error = serde_yaml::from_str::<Vec<RowId>>("[E99]").unwrap_err();
        assert!(
            error.to_string().starts_with("`E99` is not a row"),
            "{error}"
        );
    }
}
