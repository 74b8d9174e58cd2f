//! Small ordered maps and sets over one sorted `Vec`.
//!
//! Why not `BTreeMap`: every distinct `BTreeMap<K, V>` brings its own copy
//! of the B-tree's node code into the wasm, about 10 KB each, and the
//! browser runtime had a dozen of them (120 KB of a 400 KB module). The
//! maps here hold tens to a few thousand entries (peers, open requests,
//! pieces being read), where a binary search over a `Vec` is as fast and the
//! code per instantiation is a few hundred bytes.
//!
//! Invariant: `entries` is sorted by key with no duplicate keys, so
//! iteration is in key order, as with `BTreeMap`.

use std::borrow::Borrow;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SortedMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        SortedMap {
            entries: Vec::new(),
        }
    }
}

impl<K: Ord, V> SortedMap<K, V> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a map from entries already sorted by key without duplicates;
    /// `None` when they are not.
    pub fn from_sorted(entries: Vec<(K, V)>) -> Option<Self> {
        let sorted = entries.windows(2).all(|w| w[0].0 < w[1].0);
        sorted.then_some(SortedMap { entries })
    }

    fn position<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        self.entries.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    /// Inserts or replaces; returns the value it replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.position(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        let i = self.position(key).ok()?;
        Some(self.entries.remove(i).1)
    }

    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        let i = self.position(key).ok()?;
        Some(&self.entries[i].1)
    }

    pub fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        let i = self.position(key).ok()?;
        Some(&mut self.entries[i].1)
    }

    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.position(key).is_ok()
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.entries.retain_mut(|(k, v)| keep(k, v));
    }
}

impl<K, V> SortedMap<K, V> {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> + ExactSizeIterator {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub fn iter_mut(&mut self) -> impl DoubleEndedIterator<Item = (&K, &mut V)> {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> + ExactSizeIterator {
        self.entries.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator {
        self.entries.iter().map(|(_, v)| v)
    }

    pub fn values_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut V> {
        self.entries.iter_mut().map(|(_, v)| v)
    }

    pub fn into_values(self) -> impl DoubleEndedIterator<Item = V> {
        self.entries.into_iter().map(|(_, v)| v)
    }

    /// The entry with the smallest key.
    pub fn first(&self) -> Option<(&K, &V)> {
        self.entries.first().map(|(k, v)| (k, v))
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for SortedMap<K, V> {
    /// Later entries replace earlier ones with the same key, as in `BTreeMap`.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(items: I) -> Self {
        let mut map = SortedMap::new();
        for (key, value) in items {
            map.insert(key, value);
        }
        map
    }
}

impl<K: Ord, V, const N: usize> From<[(K, V); N]> for SortedMap<K, V> {
    fn from(items: [(K, V); N]) -> Self {
        items.into_iter().collect()
    }
}

impl<'a, K, V> IntoIterator for &'a SortedMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (K, V)>, fn(&'a (K, V)) -> (&'a K, &'a V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

impl<K, V> IntoIterator for SortedMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

/// A set of ordered keys; see [`SortedMap`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SortedSet<K> {
    keys: Vec<K>,
}

impl<K> Default for SortedSet<K> {
    fn default() -> Self {
        SortedSet { keys: Vec::new() }
    }
}

impl<K: Ord> SortedSet<K> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `key`; `false` when it was already there.
    pub fn insert(&mut self, key: K) -> bool {
        match self.keys.binary_search(&key) {
            Ok(_) => false,
            Err(i) => {
                self.keys.insert(i, key);
                true
            }
        }
    }

    /// Removes `key`; `false` when it was not there.
    pub fn remove(&mut self, key: &K) -> bool {
        match self.keys.binary_search(key) {
            Ok(i) => {
                self.keys.remove(i);
                true
            }
            Err(_) => false,
        }
    }

    pub fn contains(&self, key: &K) -> bool {
        self.keys.binary_search(key).is_ok()
    }

    pub fn retain(&mut self, keep: impl FnMut(&K) -> bool) {
        self.keys.retain(keep);
    }

    /// Removes and returns the smallest key.
    pub fn pop_first(&mut self) -> Option<K> {
        (!self.keys.is_empty()).then(|| self.keys.remove(0))
    }
}

impl<K> SortedSet<K> {
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn clear(&mut self) {
        self.keys.clear();
    }

    pub fn iter(&self) -> std::slice::Iter<'_, K> {
        self.keys.iter()
    }

    pub fn first(&self) -> Option<&K> {
        self.keys.first()
    }
}

impl<K: Ord> Extend<K> for SortedSet<K> {
    fn extend<I: IntoIterator<Item = K>>(&mut self, items: I) {
        for key in items {
            self.insert(key);
        }
    }
}

impl<K: Ord> FromIterator<K> for SortedSet<K> {
    fn from_iter<I: IntoIterator<Item = K>>(items: I) -> Self {
        let mut keys: Vec<K> = items.into_iter().collect();
        // Equal keys are interchangeable, so an unstable sort will do.
        heap_sort(&mut keys);
        keys.dedup();
        SortedSet { keys }
    }
}

impl<K> IntoIterator for SortedSet<K> {
    type Item = K;
    type IntoIter = std::vec::IntoIter<K>;
    fn into_iter(self) -> Self::IntoIter {
        self.keys.into_iter()
    }
}

impl<'a, K> IntoIterator for &'a SortedSet<K> {
    type Item = &'a K;
    type IntoIter = std::slice::Iter<'a, K>;
    fn into_iter(self) -> Self::IntoIter {
        self.keys.iter()
    }
}

/// Sorts `items` in place: heapsort, `n log n` at worst and no allocation.
///
/// Why not `sort_unstable`: the standard library's sorts are tuned for
/// speed, and each element type they are used with brings a few KB of its
/// own code into the wasm (DESIGN.md, "Size"); the slices sorted here are
/// tens to a few thousand items long, where heapsort is as good.
pub fn heap_sort<T: Ord>(items: &mut [T]) {
    let len = items.len();
    for root in (0..len / 2).rev() {
        sift_down(items, root, len);
    }
    for end in (1..len).rev() {
        items.swap(0, end);
        sift_down(items, 0, end);
    }
}

/// Moves `items[root]` down until it is no smaller than its children,
/// looking at `items[..end]` only.
fn sift_down<T: Ord>(items: &mut [T], mut root: usize, end: usize) {
    loop {
        let mut child = 2 * root + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && items[child] < items[child + 1] {
            child += 1;
        }
        if items[root] >= items[child] {
            return;
        }
        items.swap(root, child);
        root = child;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_keeps_key_order_and_replaces() {
        let mut map = SortedMap::new();
        for k in [5, 1, 9, 3] {
            assert_eq!(map.insert(k, k * 10), None);
        }
        assert_eq!(map.insert(3, 31), Some(30));
        assert_eq!(map.keys().copied().collect::<Vec<_>>(), [1, 3, 5, 9]);
        assert_eq!(map.get(&3), Some(&31));
        assert_eq!(map.remove(&5), Some(50));
        assert_eq!(map.remove(&5), None);
        assert!(!map.contains_key(&5));
        map.retain(|k, _| *k > 1);
        assert_eq!(map.values().copied().collect::<Vec<_>>(), [31, 90]);
        assert_eq!(map.first(), Some((&3, &31)));
    }

    #[test]
    fn map_from_sorted_refuses_unsorted_or_duplicate_keys() {
        assert!(SortedMap::from_sorted(vec![(1, ()), (2, ())]).is_some());
        assert!(SortedMap::from_sorted(vec![(2, ()), (1, ())]).is_none());
        assert!(SortedMap::from_sorted(vec![(1, ()), (1, ())]).is_none());
    }

    #[test]
    fn set_behaves_like_an_ordered_set() {
        let mut set: SortedSet<u32> = [4, 2, 4, 8].into_iter().collect();
        assert_eq!(set.iter().copied().collect::<Vec<_>>(), [2, 4, 8]);
        assert!(!set.insert(4));
        assert!(set.insert(1));
        assert!(set.remove(&2));
        assert!(!set.remove(&2));
        assert_eq!(set.pop_first(), Some(1));
        assert_eq!(set.len(), 2);
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    proptest! {
        /// Any sequence of inserts and removes leaves the same contents, in
        /// the same order, as `BTreeMap`.
        #[test]
        fn map_agrees_with_btreemap(ops in proptest::collection::vec((any::<bool>(), 0u8..32, any::<u16>()), 0..200)) {
            let mut ours = SortedMap::new();
            let mut reference = BTreeMap::new();
            for (insert, key, value) in ops {
                if insert {
                    prop_assert_eq!(ours.insert(key, value), reference.insert(key, value));
                } else {
                    prop_assert_eq!(ours.remove(&key), reference.remove(&key));
                }
            }
            let ours: Vec<_> = ours.iter().map(|(k, v)| (*k, *v)).collect();
            let reference: Vec<_> = reference.into_iter().collect();
            prop_assert_eq!(ours, reference);
        }

        /// `heap_sort` sorts as the standard library does.
        #[test]
        fn heap_sort_agrees_with_sort(mut items in proptest::collection::vec(any::<(u8, u16)>(), 0..300)) {
            let mut reference = items.clone();
            reference.sort();
            heap_sort(&mut items);
            prop_assert_eq!(items, reference);
        }
    }
}
