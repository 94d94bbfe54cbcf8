//! The group table of [`super::view_groups`]: group keys of `Utf8View` columns (or of
//! dictionaries of `Utf8`), numbered.
//!
//! Each key column keeps the distinct strings it has held so far ([`Strings`]), each with an
//! id. A batch's column is first numbered by view: the Parquet reader gives every row of one
//! dictionary entry the very same 16-byte view, so comparing views (integers) finds the
//! batch's distinct strings, and only those are hashed and looked up as strings. A row's key
//! is then the tuple of its columns' string ids, and a table of tuples ([`Tuples`]) gives its
//! group: integers again, where DataFusion's own table hashes and compares every row's
//! strings.
//!
//! A key read as a dictionary ([`super::dictionary_keys`]) skips the numbering too: each entry
//! of the column chunk's dictionary is looked up once, when a row first uses it, and a row's
//! string id is its entry's.
//!
//! A column whose batches hold mostly distinct views (an address per row) skips the numbering
//! and looks every row up. Lookups go a chunk of rows at a time: the table slots of the whole
//! chunk are read first, so that the processor waits for memory once per chunk (the tables
//! of such columns outgrow the caches).
//!
//! With one key column the string ids are the groups. Group ids run from 0 in the order the
//! keys first came, as [`datafusion`]'s accumulators expect.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, DictionaryArray, StringArray, StringViewArray, StringViewBuilder,
    UInt32Array,
};
use arrow::compute::take;
use arrow::datatypes::Int32Type;
use datafusion::common::{Result, internal_err};

use super::key_tables::{IdTable, ViewIds, hash_bytes, mix, number_views};

/// The group table: the distinct keys seen since the last [`ViewKeys::emit`].
pub(super) struct ViewKeys {
    columns: Vec<Strings>,
    /// For each column, each row's string id in the batch being interned.
    row_ids: Vec<Vec<u32>>,
    tuples: Tuples,
    /// Scratch space of the numbering by view.
    local_ids: Vec<u32>,
    firsts: Vec<u32>,
    strings_of_local: Vec<u32>,
}

impl ViewKeys {
    pub(super) fn new(columns: usize) -> ViewKeys {
        ViewKeys {
            columns: (0..columns).map(|_| Strings::default()).collect(),
            row_ids: vec![Vec::new(); columns],
            tuples: Tuples::new(columns),
            local_ids: Vec::new(),
            firsts: Vec::new(),
            strings_of_local: Vec::new(),
        }
    }

    /// The number of groups.
    pub(super) fn len(&self) -> usize {
        match self.columns.as_slice() {
            [only] => only.len(),
            _ => self.tuples.len(),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Puts each row of `keys` (one `Utf8View` array per key column) in its group, adding
    /// groups for keys not seen yet; `groups` gets each row's group id.
    pub(super) fn intern(&mut self, keys: &[ArrayRef], groups: &mut Vec<usize>) -> Result<()> {
        if keys.len() != self.columns.len() {
            return internal_err!(
                "{} group key columns for a table of {}",
                keys.len(),
                self.columns.len()
            );
        }
        let rows = keys.first().map_or(0, |k| k.len());
        if rows > u32::MAX as usize {
            return internal_err!("a batch of {rows} rows is too long to group");
        }
        for (column, (strings, ids)) in keys
            .iter()
            .zip(self.columns.iter_mut().zip(&mut self.row_ids))
        {
            if column.len() != rows {
                return internal_err!("group key columns of different lengths");
            }
            ids.clear();
            if let Some(column) = column.as_dictionary_opt::<Int32Type>() {
                strings.look_up_entries(column, ids)?;
                continue;
            }
            let Some(column) = column.as_string_view_opt() else {
                return internal_err!(
                    "a group key is {}, not Utf8View or a dictionary of Utf8",
                    column.data_type()
                );
            };
            if strings.by_view {
                // Number the batch's views, then look each distinct one up as a string.
                number_views(
                    column,
                    &mut strings.views,
                    &mut self.local_ids,
                    &mut self.firsts,
                );
                self.strings_of_local.clear();
                strings.look_up(
                    column,
                    self.firsts.iter().map(|&row| row as usize),
                    &mut self.strings_of_local,
                );
                ids.extend(
                    self.local_ids
                        .iter()
                        .map(|&local| self.strings_of_local[local as usize]),
                );
                // When most views are distinct, numbering them only adds to the lookups.
                strings.by_view = self.firsts.len() <= rows / 2 || rows < MIN_PROBE_ROWS;
            } else {
                strings.look_up(column, 0..rows, ids);
            }
        }
        groups.clear();
        match self.row_ids.as_slice() {
            [only] => groups.extend(only.iter().map(|&id| id as usize)),
            [first, second] => self.tuples.pair_groups(first, second, groups),
            columns => {
                let mut tuple = vec![0; columns.len()];
                for row in 0..rows {
                    for (value, ids) in tuple.iter_mut().zip(columns) {
                        *value = ids[row];
                    }
                    groups.push(self.tuples.group(&tuple) as usize);
                }
            }
        }
        Ok(())
    }

    /// Hands out every group's key, one array per key column in group order, and starts
    /// empty.
    pub(super) fn emit(&mut self) -> Result<Vec<ArrayRef>> {
        let columns = self.columns.len();
        let values = std::mem::replace(
            &mut self.columns,
            (0..columns).map(|_| Strings::default()).collect(),
        )
        .into_iter()
        .map(|strings| strings.into_array())
        .collect::<Vec<_>>();
        let tuples = std::mem::replace(&mut self.tuples, Tuples::new(columns));
        if columns == 1 {
            return Ok(values);
        }
        values
            .iter()
            .enumerate()
            .map(|(column, values)| {
                let ids = UInt32Array::from_iter_values(
                    tuples.keys.iter().skip(column).step_by(columns).copied(),
                );
                Ok(take(values, &ids, None)?)
            })
            .collect()
    }
}

/// The distinct strings of one key column, each with an id from 0 in the order first seen.
struct Strings {
    /// The strings, one after another; string `id` ends at `ends[id]`.
    text: String,
    ends: Vec<usize>,
    /// The id standing for null, once a null was seen (its string is empty).
    null: Option<u32>,
    table: IdTable,
    /// Whether a batch's rows are numbered by view before their strings are looked up: until
    /// a batch holds more distinct views than repeated ones.
    by_view: bool,
    /// The table of that numbering, cleared for each batch.
    views: ViewIds,
    /// For a dictionary-encoded column, the dictionary of the last batch and the string id of
    /// each of its entries ([`UNSEEN`] until a row uses it).
    dictionary: Option<(ArrayRef, Vec<u32>)>,
}

/// An entry of a dictionary not looked up yet.
const UNSEEN: u32 = u32::MAX;

/// Whether `seen` holds the very buffers of `strings`. The Parquet reader gives each batch of
/// a column chunk a dictionary array of its own over the chunk's one set of buffers. As
/// `seen` keeps its buffers alive, equal addresses are the same strings.
fn same_strings(seen: &ArrayRef, strings: &StringArray) -> bool {
    let Some(seen) = seen.as_string_opt::<i32>() else {
        return false;
    };
    seen.len() == strings.len()
        && seen.offset() == strings.offset()
        && seen.value_offsets().as_ptr() == strings.value_offsets().as_ptr()
        && seen.values().as_ptr() == strings.values().as_ptr()
}

/// How many rows' table slots are read ahead of their lookups.
const LOOKAHEAD: usize = 16;

/// The fewest rows of a batch that can tell the numbering by view to stop.
const MIN_PROBE_ROWS: usize = 1024;

impl Default for Strings {
    fn default() -> Strings {
        Strings {
            text: String::new(),
            ends: Vec::new(),
            null: None,
            table: IdTable::default(),
            by_view: true,
            views: ViewIds::default(),
            dictionary: None,
        }
    }
}

impl Strings {
    fn len(&self) -> usize {
        self.ends.len()
    }

    fn get(&self, id: u32) -> &str {
        let id = id as usize;
        let start = if id == 0 { 0 } else { self.ends[id - 1] };
        &self.text[start..self.ends[id]]
    }

    /// Appends to `ids` the id of the string (or null) in each of `rows` of `column`.
    fn look_up(
        &mut self,
        column: &StringViewArray,
        rows: impl Iterator<Item = usize>,
        ids: &mut Vec<u32>,
    ) {
        let mut rows = rows.peekable();
        let mut chunk = [(0, 0); LOOKAHEAD];
        while rows.peek().is_some() {
            let mut len = 0;
            for (slot, row) in chunk.iter_mut().zip(rows.by_ref()) {
                let hash = match column.is_null(row) {
                    true => 0,
                    false => hash_bytes(column.value(row).as_bytes()),
                };
                *slot = (row, hash);
                len += 1;
            }
            let chunk = &chunk[..len];
            self.fetch(chunk.iter().map(|&(_, hash)| hash));
            for &(row, hash) in chunk {
                ids.push(match column.is_null(row) {
                    true => self.null_id(),
                    false => self.id(column.value(row), hash),
                });
            }
        }
    }

    /// Appends to `ids` the id of each row of `column`, a dictionary of strings. An entry is
    /// looked up when a row first uses it, and its id kept while batches share the dictionary
    /// ([`same_strings`]): the Parquet reader reads one dictionary for all the batches of a
    /// column chunk, so a row costs an index into the entries' ids.
    fn look_up_entries(
        &mut self,
        column: &DictionaryArray<Int32Type>,
        ids: &mut Vec<u32>,
    ) -> Result<()> {
        let values = column.values();
        let Some(entries) = values.as_string_opt::<i32>() else {
            return internal_err!(
                "a group key is a dictionary of {}, not of Utf8",
                values.data_type()
            );
        };
        let mut entry_ids = match self.dictionary.take() {
            Some((seen, entry_ids)) if same_strings(&seen, entries) => entry_ids,
            _ => vec![UNSEEN; values.len()],
        };
        let keys = column.keys();
        for (row, &key) in keys.values().iter().enumerate() {
            if keys.is_null(row) {
                ids.push(self.null_id());
                continue;
            }
            // The array's own checks keep a non-null key within its dictionary.
            let entry = key as usize;
            let mut id = entry_ids[entry];
            if id == UNSEEN {
                id = match entries.is_null(entry) {
                    true => self.null_id(),
                    false => {
                        let value = entries.value(entry);
                        self.id(value, hash_bytes(value.as_bytes()))
                    }
                };
                entry_ids[entry] = id;
            }
            ids.push(id);
        }
        self.dictionary = Some((Arc::clone(values), entry_ids));
        Ok(())
    }

    /// Reads, for each hash, its first slot and the end of the string there, ahead of the
    /// lookups: these loads are independent, so the processor waits for memory once for a
    /// chunk of rows rather than once per row.
    #[inline]
    fn fetch(&self, hashes: impl Iterator<Item = u64> + Clone) {
        self.table.fetch(hashes.clone());
        let mut seen = 0u8;
        for hash in hashes {
            if let Some(id) = self.table.first_id(hash) {
                let end = self.ends[id as usize];
                seen ^= self.text.as_bytes()[end.saturating_sub(1)];
            }
        }
        std::hint::black_box(seen);
    }

    /// The id of `value`, whose hash is `hash`; a new one when it was not seen yet.
    fn id(&mut self, value: &str, hash: u64) -> u32 {
        let Strings {
            text,
            ends,
            null,
            table,
            ..
        } = self;
        let found = table.find(hash, |id| {
            Some(id) != *null && {
                let id = id as usize;
                let start = if id == 0 { 0 } else { ends[id - 1] };
                text.as_bytes()[start..ends[id]] == *value.as_bytes()
            }
        });
        match found {
            Ok(id) => id,
            Err(slot) => {
                let id = self.push(value);
                self.table.insert(slot, hash, id);
                id
            }
        }
    }

    fn null_id(&mut self) -> u32 {
        match self.null {
            Some(id) => id,
            None => {
                let id = self.push("");
                self.null = Some(id);
                id
            }
        }
    }

    fn push(&mut self, value: &str) -> u32 {
        self.text.push_str(value);
        self.ends.push(self.text.len());
        (self.ends.len() - 1) as u32
    }

    /// The strings in id order, with null at the null id.
    fn into_array(self) -> ArrayRef {
        let mut builder = StringViewBuilder::with_capacity(self.len());
        for id in 0..self.len() as u32 {
            match Some(id) == self.null {
                true => builder.append_null(),
                false => builder.append_value(self.get(id)),
            }
        }
        Arc::new(builder.finish())
    }
}

/// The distinct tuples of string ids (keys of two or more columns), each with a group id from
/// 0 in the order first seen.
struct Tuples {
    width: usize,
    /// Each group's tuple, `width` ids after another.
    keys: Vec<u32>,
    table: IdTable,
}

impl Tuples {
    fn new(width: usize) -> Tuples {
        Tuples {
            width,
            keys: Vec::new(),
            table: IdTable::default(),
        }
    }

    fn len(&self) -> usize {
        self.keys.len() / self.width.max(1)
    }

    /// Appends to `groups` the group of each pair of `first` and `second`.
    fn pair_groups(&mut self, first: &[u32], second: &[u32], groups: &mut Vec<usize>) {
        let mut keys = [0; LOOKAHEAD];
        for (first, second) in first.chunks(LOOKAHEAD).zip(second.chunks(LOOKAHEAD)) {
            for (key, (&a, &b)) in keys.iter_mut().zip(first.iter().zip(second)) {
                *key = pair_key(a, b);
            }
            let keys = &keys[..first.len()];
            self.table.fetch(keys.iter().copied());
            for &key in keys {
                let group = match self.table.find(key, |_| true) {
                    Ok(group) => group,
                    Err(slot) => self.add(slot, key, &[(key >> 32) as u32, key as u32]),
                };
                groups.push(group as usize);
            }
        }
    }

    #[inline]
    fn group(&mut self, tuple: &[u32]) -> u32 {
        // A pair is its own key in the table; a longer tuple is keyed by its hash.
        let (key, exact) = match tuple {
            [a, b] => (pair_key(*a, *b), true),
            _ => {
                let hash = tuple.iter().fold(0, |hash, &id| mix(hash ^ u64::from(id)));
                (hash, false)
            }
        };
        let width = self.width;
        let keys = &self.keys;
        match self.table.find(key, |group| {
            let start = group as usize * width;
            exact || keys[start..start + width] == *tuple
        }) {
            Ok(group) => group,
            Err(slot) => self.add(slot, key, tuple),
        }
    }

    fn add(&mut self, slot: usize, key: u64, tuple: &[u32]) -> u32 {
        let group = self.len() as u32;
        self.keys.extend_from_slice(tuple);
        self.table.insert(slot, key, group);
        group
    }
}

/// A pair of ids as one key.
#[inline]
fn pair_key(a: u32, b: u32) -> u64 {
    u64::from(a) << 32 | u64::from(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::StringViewArray;

    fn column(values: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringViewArray::from(values.to_vec()))
    }

    fn groups_of(table: &mut ViewKeys, keys: &[ArrayRef]) -> Vec<usize> {
        let mut groups = Vec::new();
        table.intern(keys, &mut groups).unwrap();
        groups
    }

    fn emitted(table: &mut ViewKeys) -> Vec<Vec<Option<String>>> {
        table
            .emit()
            .unwrap()
            .iter()
            .map(|c| {
                c.as_string_view()
                    .iter()
                    .map(|v| v.map(str::to_string))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn equal_strings_share_a_group_across_views_and_batches() {
        let long = "a string longer than twelve bytes";
        let strings = StringViewArray::from(vec![Some("a"), Some(long), None, Some("b")]);
        // `take` copies views, so rows 0 and 3 below hold the very same long view.
        let indices = UInt32Array::from(vec![1, 0, 2, 1, 0, 2, 3]);
        let first: ArrayRef = take(&strings, &indices, None).unwrap();
        // The same strings again, in arrays of their own: other views of them.
        let second = column(&[Some("b"), Some(long), None, Some("c")]);
        let mut table = ViewKeys::new(1);
        assert_eq!(groups_of(&mut table, &[first]), [0, 1, 2, 0, 1, 2, 3]);
        assert_eq!(groups_of(&mut table, &[second]), [3, 0, 2, 4]);
        assert_eq!(table.len(), 5);
        let expected = [Some(long), Some("a"), None, Some("b"), Some("c")];
        assert_eq!(
            emitted(&mut table),
            [expected.map(|v| v.map(str::to_string)).to_vec()]
        );
        assert!(table.is_empty(), "emitting starts the table afresh");
    }

    #[test]
    fn an_empty_string_and_a_null_are_different_keys() {
        // Both have an all-zero view.
        let values = column(&[Some(""), None, Some(""), None]);
        let mut table = ViewKeys::new(1);
        assert_eq!(
            groups_of(&mut table, std::slice::from_ref(&values)),
            [0, 1, 0, 1]
        );
        assert_eq!(emitted(&mut table), [vec![Some(String::new()), None]]);
        let mut pairs = ViewKeys::new(2);
        assert_eq!(
            groups_of(&mut pairs, &[Arc::clone(&values), values]),
            [0, 1, 0, 1]
        );
    }

    #[test]
    fn keys_of_several_columns_are_grouped_as_tuples() {
        let a = column(&[Some("x"), Some("x"), Some("y"), None, Some("x"), None]);
        let b = column(&[
            Some("1"),
            Some("2"),
            Some("1"),
            Some("1"),
            Some("1"),
            Some("1"),
        ]);
        let mut pairs = ViewKeys::new(2);
        assert_eq!(
            groups_of(&mut pairs, &[Arc::clone(&a), Arc::clone(&b)]),
            [0, 1, 2, 3, 0, 3]
        );
        let text = |v: &[Option<&str>]| v.iter().map(|v| v.map(str::to_string)).collect::<Vec<_>>();
        assert_eq!(
            emitted(&mut pairs),
            [
                text(&[Some("x"), Some("x"), Some("y"), None]),
                text(&[Some("1"), Some("2"), Some("1"), Some("1")])
            ]
        );
        // Three columns go through the general tuple table.
        let mut triples = ViewKeys::new(3);
        let c = column(&[
            Some("p"),
            Some("p"),
            Some("p"),
            Some("p"),
            Some("q"),
            Some("p"),
        ]);
        assert_eq!(groups_of(&mut triples, &[a, b, c]), [0, 1, 2, 3, 4, 3]);
        assert_eq!(triples.len(), 5);
    }

    #[test]
    fn the_tables_grow_past_their_first_size() {
        let values: Vec<String> = (0..5_000).map(|i| format!("value number {i}")).collect();
        let distinct = StringViewArray::from_iter_values(&values);
        let twice = UInt32Array::from_iter_values((0..5_000).chain(0..5_000));
        let keys: ArrayRef = take(&distinct, &twice, None).unwrap();
        let mut table = ViewKeys::new(2);
        let groups = groups_of(&mut table, &[Arc::clone(&keys), keys]);
        assert_eq!(groups[..5_000], (0..5_000).collect::<Vec<usize>>());
        assert_eq!(groups[5_000..], groups[..5_000]);
        let columns = emitted(&mut table);
        let expected: Vec<Option<String>> = values.into_iter().map(Some).collect();
        assert_eq!(columns, [expected.clone(), expected]);
    }

    fn dictionary(entries: &ArrayRef, keys: &[Option<i32>]) -> ArrayRef {
        let keys = arrow::array::Int32Array::from(keys.to_vec());
        Arc::new(DictionaryArray::<Int32Type>::new(keys, Arc::clone(entries)))
    }

    #[test]
    fn dictionary_keys_group_as_their_strings() {
        let entries: ArrayRef = Arc::new(arrow::array::StringArray::from(vec![
            Some("unused"),
            Some("a"),
            Some("a long string, beyond twelve bytes"),
            None,
        ]));
        let first = dictionary(&entries, &[Some(1), Some(2), None, Some(1), Some(3)]);
        // A later batch of the same column chunk: another array over the same buffers.
        let same = arrow::array::make_array(entries.to_data());
        let second = dictionary(&same, &[Some(2), Some(1)]);
        let views = column(&[Some("b"), Some("a")]);
        let other: ArrayRef = Arc::new(arrow::array::StringArray::from(vec!["b", "c"]));
        let fourth = dictionary(&other, &[Some(1), Some(0)]);
        let mut table = ViewKeys::new(1);
        assert_eq!(groups_of(&mut table, &[first]), [0, 1, 2, 0, 2]);
        assert_eq!(groups_of(&mut table, &[second]), [1, 0]);
        assert_eq!(groups_of(&mut table, &[views]), [3, 0]);
        assert_eq!(groups_of(&mut table, &[fourth]), [4, 3]);
        let expected = [
            Some("a"),
            Some("a long string, beyond twelve bytes"),
            None,
            Some("b"),
            Some("c"),
        ];
        // An entry no row uses makes no group.
        assert_eq!(
            emitted(&mut table),
            [expected.map(|v| v.map(str::to_string)).to_vec()]
        );
        // Dictionaries and views mix in a tuple.
        let mut pairs = ViewKeys::new(2);
        let a = dictionary(&entries, &[Some(1), Some(1), Some(2)]);
        let b = column(&[Some("x"), Some("y"), Some("x")]);
        assert_eq!(groups_of(&mut pairs, &[a, b]), [0, 1, 2]);
    }

    #[test]
    fn keys_other_than_string_views_are_refused() {
        let numbers: ArrayRef = Arc::new(UInt32Array::from(vec![1, 2]));
        let mut table = ViewKeys::new(1);
        let err = table.intern(&[numbers], &mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("not Utf8View"), "{err}");
        let numbers: ArrayRef = Arc::new(DictionaryArray::<Int32Type>::new(
            arrow::array::Int32Array::from(vec![0, 0]),
            Arc::new(UInt32Array::from(vec![7])),
        ));
        let err = table.intern(&[numbers], &mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("not of Utf8"), "{err}");
    }
}
