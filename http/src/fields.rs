//! Field types that carry into the API documents what the server holds a
//! field to: its length, range, format or pattern ([`Limited`]), and the
//! names a stored status may take ([`Stored`]).
//!
//! A [`Limited`] field is read as its plain type: the service that takes it
//! checks the limit and refuses with its own code (`invalid_name`,
//! `invalid_message`, …), as it does for the pages and the sync. The type
//! only states the limit, from the service's own constant, so a generated
//! client knows it. Where answers are held to the documents (the tests), a
//! request that breaks a stated limit and is still accepted fails loudly
//! (the API contract).

use std::{borrow::Cow, fmt, marker::PhantomData, ops::Deref};

use petbridge_domain::{
    db::entities::StoredEnum,
    kernel::{
        paging::MAX_PAGE_SIZE,
        text::{Email, Phone, Username},
    },
};
use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef, Registry},
    types::{ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type},
};
use serde_json::Value;

/// A limit a field is held to, as its schema states it.
pub trait Limit: Send + Sync + 'static {
    /// Writes the limit into the field's schema.
    fn state(schema: &mut MetaSchema);
}

/// Text of `MIN` to `MAX` characters (Unicode scalar values, as JSON Schema counts them).
pub struct Chars<const MIN: usize, const MAX: usize>;

impl<const MIN: usize, const MAX: usize> Limit for Chars<MIN, MAX> {
    fn state(schema: &mut MetaSchema) {
        schema.min_length = (MIN > 0).then_some(MIN);
        schema.max_length = Some(MAX);
    }
}

/// A whole number from `MIN` to `MAX`.
pub struct Between<const MIN: i64, const MAX: i64>;

impl<const MIN: i64, const MAX: i64> Limit for Between<MIN, MAX> {
    #[allow(clippy::cast_precision_loss, reason = "the limits are small whole numbers, exact as f64")]
    fn state(schema: &mut MetaSchema) {
        schema.minimum = Some(MIN as f64);
        schema.maximum = Some(MAX as f64);
    }
}

/// A list of at most `MAX` items.
pub struct Items<const MAX: usize>;

impl<const MAX: usize> Limit for Items<MAX> {
    fn state(schema: &mut MetaSchema) {
        schema.max_items = Some(MAX);
    }
}

/// An email address (`format: email`), of at most 254 characters.
pub struct EmailAddress;

impl Limit for EmailAddress {
    fn state(schema: &mut MetaSchema) {
        schema.format = Some("email");
        schema.max_length = Some(Email::MAX_CHARS);
    }
}

/// One of the names `E` is stored as. For text the service reads itself,
/// to answer its own code (`invalid_status`) for another; [`Stored`] is
/// the field type where a wrong name may be a plain 400.
pub struct Names<E>(PhantomData<E>);

impl<E: StoredEnum> Limit for Names<E> {
    fn state(schema: &mut MetaSchema) {
        schema.enum_items = E::iter().map(|variant| Value::String(variant.to_string())).collect();
    }
}

/// A fixed list of names, for [`OneOf`].
pub trait Choices: Send + Sync + 'static {
    /// The names.
    const NAMES: &'static [&'static str];
}

/// One of the names `C` lists.
pub struct OneOf<C>(PhantomData<C>);

impl<C: Choices> Limit for OneOf<C> {
    fn state(schema: &mut MetaSchema) {
        schema.enum_items = C::NAMES.iter().map(|name| Value::String((*name).to_owned())).collect();
    }
}

/// A pattern the text matches (ECMA-262, as JSON Schema reads it).
pub trait Pattern: Send + Sync + 'static {
    /// The regular expression.
    const PATTERN: &'static str;
}

impl Pattern for Username {
    const PATTERN: &'static str = Username::PATTERN;
}

impl Pattern for Phone {
    const PATTERN: &'static str = Phone::PATTERN;
}

/// Text that matches `P`.
pub struct Matching<P>(PhantomData<P>);

impl<P: Pattern> Limit for Matching<P> {
    fn state(schema: &mut MetaSchema) {
        schema.pattern = Some(P::PATTERN.to_owned());
    }
}

/// Two limits at once.
impl<A: Limit, B: Limit> Limit for (A, B) {
    fn state(schema: &mut MetaSchema) {
        A::state(schema);
        B::state(schema);
    }
}

/// A `T` whose schema states the limit `L`; read and written as `T`.
pub struct Limited<T, L>(pub T, PhantomData<L>);

/// Text of `MIN` to `MAX` characters.
pub type Text<const MIN: usize, const MAX: usize> = Limited<String, Chars<MIN, MAX>>;

impl<T, L> Limited<T, L> {
    /// The value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T, L> From<T> for Limited<T, L> {
    fn from(value: T) -> Self {
        Self(value, PhantomData)
    }
}

impl<T, L> Deref for Limited<T, L> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: fmt::Debug, L> fmt::Debug for Limited<T, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<T: Clone, L> Clone for Limited<T, L> {
    fn clone(&self) -> Self {
        Self(self.0.clone(), PhantomData)
    }
}

impl<T: Default, L> Default for Limited<T, L> {
    fn default() -> Self {
        Self(T::default(), PhantomData)
    }
}

impl<T: Type, L: Limit> Type for Limited<T, L> {
    const IS_REQUIRED: bool = T::IS_REQUIRED;
    type RawValueType = T::RawValueType;
    type RawElementValueType = T::RawElementValueType;

    fn name() -> Cow<'static, str> {
        T::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        // The limit goes on the value's own schema: a list's items keep theirs.
        let mut schema = match T::schema_ref() {
            MetaSchemaRef::Inline(schema) => *schema,
            reference @ MetaSchemaRef::Reference(_) => return reference,
        };
        L::state(&mut schema);
        MetaSchemaRef::Inline(Box::new(schema))
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        self.0.as_raw_value()
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        self.0.raw_element_iter()
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T: ParseFromJSON, L: Limit> ParseFromJSON for Limited<T, L> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        T::parse_from_json(value).map(Self::from).map_err(ParseError::propagate)
    }
}

impl<T: ParseFromParameter, L: Limit> ParseFromParameter for Limited<T, L> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        T::parse_from_parameter(value).map(Self::from).map_err(ParseError::propagate)
    }
}

/// How many items a page of a list holds (the service answers
/// `invalid_limit` outside these).
pub type PageSize = Limited<u32, Between<1, { MAX_PAGE_SIZE as i64 }>>;

impl<T: ToJSON, L: Limit> ToJSON for Limited<T, L> {
    fn to_json(&self) -> Option<Value> {
        self.0.to_json()
    }
}

/// A stored status or kind, by its stored name. Its schema is a component
/// named by the enum ([`StoredEnum::SCHEMA`]) that lists every name, so a
/// generated client gets one enum type for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored<E>(pub E);

impl<E: StoredEnum> Type for Stored<E> {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        E::SCHEMA.into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Reference(E::SCHEMA.to_owned())
    }

    fn register(registry: &mut Registry) {
        registry.create_schema::<Self, _>(E::SCHEMA.to_owned(), |_| MetaSchema {
            enum_items: E::iter().map(|variant| Value::String(variant.to_string())).collect(),
            ..MetaSchema::new("string")
        });
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(std::iter::once(self))
    }
}

impl<E: StoredEnum> Stored<E> {
    fn parse(name: &str) -> ParseResult<Self> {
        E::named(name).map(Self).ok_or_else(|| {
            let names: Vec<String> = E::iter().map(|variant| variant.to_string()).collect();
            ParseError::custom(format!("`{name}` is not one of {}", names.join(", ")))
        })
    }
}

impl<E: StoredEnum> ParseFromJSON for Stored<E> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::String(name)) => Self::parse(&name),
            Some(other) => Err(ParseError::expected_type(other)),
            None => Err(ParseError::expected_input()),
        }
    }
}

impl<E: StoredEnum> ParseFromParameter for Stored<E> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Self::parse(value)
    }
}

impl<E: StoredEnum> ToJSON for Stored<E> {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.to_string()))
    }
}

impl<E> From<E> for Stored<E> {
    fn from(value: E) -> Self {
        Self(value)
    }
}
