//! [`Object`]: an insertion-ordered list of uniquely named members.

use std::fmt;
use std::iter::FusedIterator;

use super::Value;

/// A JSON object: members in insertion (document) order, names unique.
///
/// Lookups are linear scans, which is the right trade for request bodies
/// (a handful to a few hundred members) and keeps the order exact. No
/// operation can create a duplicate name: [`Object::insert`] replaces an
/// existing member in place, and [`parse`](super::parse) refuses duplicates.
///
/// Equality is order-sensitive: `{"a":1,"b":2}` != `{"b":2,"a":1}`, because
/// the two serialize differently.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Object(pub(super) Vec<(String, Value)>);

impl Object {
    /// An empty object.
    pub fn new() -> Self {
        Object(Vec::new())
    }

    /// The value of the member named `key` (exact comparison), if any.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Mutable access to the value of the member named `key`, if any.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.0.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Whether a member named `key` exists.
    pub fn contains_key(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the object has no members.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Sets member `key` to `value`. If the member exists its value is
    /// replaced in place (its position is kept) and the old value returned;
    /// otherwise the member is appended and `None` returned.
    pub fn insert(&mut self, key: impl Into<String>, value: Value) -> Option<Value> {
        let key = key.into();
        if let Some(slot) = self.get_mut(&key) {
            return Some(std::mem::replace(slot, value));
        }
        self.0.push((key, value));
        None
    }

    /// Keeps the members for which `keep(name, value)` is true, in order, in one pass (removing
    /// several members one by one with [`Object::remove`] costs a scan and a shift each).
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &mut Value) -> bool) {
        self.0.retain_mut(|(k, v)| keep(k, v));
    }

    /// Removes member `key` and returns its value; the other members keep
    /// their relative order.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let index = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(index).1)
    }

    /// Members in order, as `(name, value)`.
    pub fn iter(&self) -> ObjectIter<'_> {
        ObjectIter(self.0.iter())
    }

    /// Members in order, with mutable values (names cannot be changed, so
    /// they stay unique).
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&str, &mut Value)> {
        self.0.iter_mut().map(|(k, v)| (k.as_str(), v))
    }

    /// Member names in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &str> + ExactSizeIterator {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// Member values in order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator {
        self.0.iter().map(|(_, v)| v)
    }
}

impl fmt::Display for Object {
    /// Compact JSON, as [`Value::to_json`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        super::write::write_object(&mut out, self);
        f.write_str(&out)
    }
}

/// Iterator over an [`Object`]'s members in order, from [`Object::iter`].
#[derive(Debug, Clone)]
pub struct ObjectIter<'a>(std::slice::Iter<'a, (String, Value)>);

impl<'a> Iterator for ObjectIter<'a> {
    type Item = (&'a str, &'a Value);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (k.as_str(), v))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl DoubleEndedIterator for ObjectIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(k, v)| (k.as_str(), v))
    }
}

impl ExactSizeIterator for ObjectIter<'_> {}

impl FusedIterator for ObjectIter<'_> {}

impl<'a> IntoIterator for &'a Object {
    type Item = (&'a str, &'a Value);
    type IntoIter = ObjectIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl IntoIterator for Object {
    type Item = (String, Value);
    type IntoIter = std::vec::IntoIter<(String, Value)>;

    /// Consumes the object, yielding its members in order.
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl FromIterator<(String, Value)> for Object {
    /// Builds an object with [`Object::insert`] semantics: when a name
    /// repeats, the later value replaces the earlier one at the earlier
    /// position.
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        let mut object = Object::new();
        object.extend(iter);
        object
    }
}

impl Extend<(String, Value)> for Object {
    /// Inserts each member with [`Object::insert`] semantics.
    fn extend<I: IntoIterator<Item = (String, Value)>>(&mut self, iter: I) {
        for (key, value) in iter {
            self.insert(key, value);
        }
    }
}
