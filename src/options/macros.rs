//! The declarative forms: [`crate::options!`] for a parameter struct and
//! [`crate::choices!`] for a string-valued option's enum.

/// Declares a parameter struct whose fields are script options.
///
/// ```ignore
/// crate::options! {
///     /// `nn::mlp`'s architecture.
///     pub struct MlpOptions for "nn::mlp" {
///         /// sizes of the hidden layers     // the option's doc line
///         hidden: Vec<usize> = vec![100] => Ints(POSITIVE_INT),
///         /// fixes this call's random choices
///         seed: Option<u32> = None => Int(SEED_RANGE); shown "drawn from the session seed",
///         /// the two widths
///         inputs: [usize; 2] = [0, 0] => Tuple(2, POSITIVE_INT); required,
///         ..common: Shared,                  // flattened groups, last
///     }
/// }
/// ```
///
/// Each field is `name: Type = default => kind`, where `kind` is a
/// [`crate::options::Kind`] written with the names of
/// [`crate::options::kinds`]. `; shown "words"` replaces the default that
/// the docs show (when it depends on the session or the data), `; required`
/// makes the option mandatory. Every field is public; the struct derives
/// `Clone` and `Debug` and implements `Default` and
/// [`crate::options::Options`].
#[macro_export]
macro_rules! options {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident for $function:literal {
            $(
                $(#[doc = $doc:literal])*
                $field:ident : $ty:ty = $default:expr => $kind:expr $(; $extra:ident $($shown:literal)?)?,
            )*
            $(.. $tail:ident : $tail_ty:ty,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug)]
        $vis struct $name {
            $($(#[doc = $doc])* pub $field: $ty,)*
            $(pub $tail: $tail_ty,)*
        }

        impl Default for $name {
            fn default() -> Self {
                Self {
                    $($field: $default,)*
                    $($tail: Default::default(),)*
                }
            }
        }

        impl $crate::options::Options for $name {
            const FUNCTION: &'static str = $function;

            fn declared() -> Vec<$crate::options::Opt> {
                #[allow(unused_variables)]
                let defaults = <Self as Default>::default();
                #[allow(unused_mut)]
                let mut opts = Vec::new();
                $(
                    opts.push($crate::options::Opt {
                        name: stringify!($field),
                        kind: {
                            #[allow(unused_imports)]
                            use $crate::options::kinds::*;
                            $kind
                        },
                        default: $crate::__option_default!(
                            &defaults.$field $(; $extra $($shown)?)?
                        ),
                        doc: $crate::options::join_doc(&[$($doc),*]),
                    });
                )*
                $(opts.extend(<$tail_ty as $crate::options::Options>::declared());)*
                opts
            }

            #[allow(unused_variables)]
            fn from_values(values: &$crate::options::Values) -> $crate::Result<Self> {
                Ok(Self {
                    $($field: values.get(stringify!($field), $default)?,)*
                    $($tail: <$tail_ty as $crate::options::Options>::from_values(values)?,)*
                })
            }

            #[allow(unreachable_code, unused_variables)]
            fn seed_slot(&mut self) -> Option<&mut Option<u64>> {
                let this = self;
                $($crate::__seed_slot!($field this);)*
                $(
                    if let Some(slot) = $crate::options::Options::seed_slot(&mut this.$tail) {
                        return Some(slot);
                    }
                )*
                None
            }

            fn schema() -> &'static $crate::options::Schema {
                static SCHEMA: std::sync::OnceLock<$crate::options::Schema> =
                    std::sync::OnceLock::new();
                SCHEMA.get_or_init(|| {
                    $crate::options::Schema::new($function, <Self as $crate::options::Options>::declared())
                })
            }
        }
    };
}

/// The `seed` field, if the struct has one (used by [`crate::options!`]).
#[doc(hidden)]
#[macro_export]
macro_rules! __seed_slot {
    (seed $this:ident) => {
        return Some(&mut $this.seed);
    };
    ($other:ident $this:ident) => {};
}

/// What `genrelab doc` shows as an option's default (used by [`crate::options!`]).
#[doc(hidden)]
#[macro_export]
macro_rules! __option_default {
    ($value:expr) => {
        match $crate::options::ShowDefault::show_default($value) {
            Some(shown) => $crate::options::Shown::Default(shown),
            None => $crate::options::Shown::Unset,
        }
    };
    ($value:expr; shown $words:literal) => {
        $crate::options::Shown::Default($words.to_string())
    };
    ($value:expr; required) => {
        $crate::options::Shown::Required
    };
}

/// Declares an enum whose variants a script names by string, with the
/// names for [`crate::options::Kind::Choice`], reading from a script value
/// and showing as a default.
///
/// ```ignore
/// crate::choices! {
///     /// The loss.
///     pub enum Loss { SquaredHinge = "squared_hinge", Hinge = "hinge" }
/// }
/// ```
#[macro_export]
macro_rules! choices {
    // An enum declared elsewhere (with more derives or methods): only the names.
    (impl $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        impl $name {
            /// The names a script writes, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            /// The name a script writes.
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The variant a script names.
            pub fn from_name(name: &str) -> Option<$name> {
                match name { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl $crate::options::FromValue for $name {
            fn from_value(v: &$crate::options::Value) -> Option<Self> {
                v.text().and_then($name::from_name)
            }
        }

        impl $crate::options::ShowDefault for $name {
            fn show_default(&self) -> Option<String> {
                Some(format!("\"{}\"", self.name()))
            }
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident { $($variant:ident = $text:literal),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        $vis enum $name { $($variant),+ }

        $crate::choices!(impl $name { $($variant = $text),+ });
    };
}
