//! The open-addressing tables under [`super::view_keys`]: ids by 64-bit key, and the
//! numbering of a batch's rows by their string views.

use arrow::array::{Array, StringViewArray};

/// An open-addressing table of ids by a 64-bit key (a hash, or a value that fits); what an id
/// stands for is kept by its owner, who tells apart the ids of one key.
#[derive(Default)]
pub(super) struct IdTable {
    /// Slots of (key, id); an id of `u32::MAX` marks an empty slot.
    slots: Vec<(u64, u32)>,
    len: usize,
}

impl IdTable {
    const EMPTY: u32 = u32::MAX;

    /// The id under `key` for which `equal` holds, or the empty slot where such an id goes.
    #[inline]
    pub(super) fn find(
        &mut self,
        key: u64,
        mut equal: impl FnMut(u32) -> bool,
    ) -> Result<u32, usize> {
        if 2 * (self.len + 1) > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut slot = mix(key) as usize & mask;
        loop {
            let (k, id) = self.slots[slot];
            if id == Self::EMPTY {
                return Err(slot);
            }
            if k == key && equal(id) {
                return Ok(id);
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Reads the first slot of each key ahead of the lookups: the loads are independent, so
    /// the processor waits for memory once for all of them.
    #[inline]
    pub(super) fn fetch(&self, keys: impl Iterator<Item = u64>) {
        let mask = self.slots.len().wrapping_sub(1);
        let mut seen = 0;
        for key in keys {
            if let Some(&(k, _)) = self.slots.get(mix(key) as usize & mask) {
                seen ^= k;
            }
        }
        std::hint::black_box(seen);
    }

    /// The id in the first slot of `key`, if any.
    #[inline]
    pub(super) fn first_id(&self, key: u64) -> Option<u32> {
        let mask = self.slots.len().wrapping_sub(1);
        let &(_, id) = self.slots.get(mix(key) as usize & mask)?;
        (id != Self::EMPTY).then_some(id)
    }

    /// Puts `id` in the empty `slot` that [`IdTable::find`] gave for `key`.
    pub(super) fn insert(&mut self, slot: usize, key: u64, id: u32) {
        self.slots[slot] = (key, id);
        self.len += 1;
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        let capacity = (self.slots.len() * 2).max(256);
        let old = std::mem::replace(&mut self.slots, vec![(0, Self::EMPTY); capacity]);
        let mask = capacity - 1;
        for (key, id) in old.into_iter().filter(|s| s.1 != Self::EMPTY) {
            let mut slot = mix(key) as usize & mask;
            while self.slots[slot].1 != Self::EMPTY {
                slot = (slot + 1) & mask;
            }
            self.slots[slot] = (key, id);
        }
    }
}

/// Marks a null row in the numbering by view: the view of a null is not a value.
const NULL_VIEW: u32 = 1 << 31;

/// Numbers the rows of `column` by their views (and nulls): rows with the same view get the
/// same id in `ids`; `firsts` gets each id's first row. Equal views hold equal strings, while
/// one string may have two views (two row groups' dictionaries): those two ids then find the
/// same string id.
pub(super) fn number_views(
    column: &StringViewArray,
    table: &mut ViewIds,
    ids: &mut Vec<u32>,
    firsts: &mut Vec<u32>,
) {
    firsts.clear();
    table.clear();
    let views = column.views();
    ids.clear();
    ids.resize(views.len(), 0);
    match column.logical_nulls().filter(|n| n.null_count() > 0) {
        None => {
            for (row, (&view, id)) in views.iter().zip(ids.iter_mut()).enumerate() {
                *id = table.id((0, view), row, firsts);
            }
        }
        Some(nulls) => {
            for (row, (&view, id)) in views.iter().zip(ids.iter_mut()).enumerate() {
                let key = match nulls.is_null(row) {
                    true => (NULL_VIEW, 0),
                    false => (0, view),
                };
                *id = table.id(key, row, firsts);
            }
        }
    }
}

/// An open-addressing table from a view (and a null mark) to its id, kept between batches and
/// cleared for each.
#[derive(Default)]
pub(super) struct ViewIds {
    /// Slots of (view, null mark, id); an id of `u32::MAX` marks an empty slot.
    slots: Vec<(u128, u32, u32)>,
    len: usize,
}

impl ViewIds {
    const EMPTY: u32 = u32::MAX;

    fn clear(&mut self) {
        if self.len > 0 {
            self.slots.fill((0, 0, Self::EMPTY));
            self.len = 0;
        }
        if self.slots.is_empty() {
            self.grow();
        }
    }

    /// The id of `key`; a key not seen yet takes the next id, with `row` as its first row.
    #[inline]
    pub(super) fn id(
        &mut self,
        (mark, view): (u32, u128),
        row: usize,
        firsts: &mut Vec<u32>,
    ) -> u32 {
        let mask = self.slots.len() - 1;
        let mut slot = hash_view(mark, view) as usize & mask;
        loop {
            let (v, m, id) = self.slots[slot];
            if id == Self::EMPTY {
                return self.insert(slot, (mark, view), row, firsts);
            }
            if v == view && m == mark {
                return id;
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Puts a new key in the empty `slot`; grows the table (and finds the key a new slot)
    /// when it is half full.
    #[cold]
    #[inline(never)]
    fn insert(
        &mut self,
        mut slot: usize,
        (mark, view): (u32, u128),
        row: usize,
        firsts: &mut Vec<u32>,
    ) -> u32 {
        if 2 * (self.len + 1) > self.slots.len() {
            self.grow();
            let mask = self.slots.len() - 1;
            slot = hash_view(mark, view) as usize & mask;
            while self.slots[slot].2 != Self::EMPTY {
                slot = (slot + 1) & mask;
            }
        }
        let id = firsts.len() as u32;
        firsts.push(row as u32);
        self.slots[slot] = (view, mark, id);
        self.len += 1;
        id
    }

    fn grow(&mut self) {
        let capacity = (self.slots.len() * 2).max(256);
        let old = std::mem::replace(&mut self.slots, vec![(0, 0, Self::EMPTY); capacity]);
        let mask = capacity - 1;
        for (view, mark, id) in old.into_iter().filter(|s| s.2 != Self::EMPTY) {
            let mut slot = hash_view(mark, view) as usize & mask;
            while self.slots[slot].2 != Self::EMPTY {
                slot = (slot + 1) & mask;
            }
            self.slots[slot] = (view, mark, id);
        }
    }
}

/// Mixes a null mark and both halves of a view (length and prefix; then the rest of a short
/// string, or the buffer and offset of a long one) with folded multiplies.
#[inline]
fn hash_view(mark: u32, view: u128) -> u64 {
    mix(mix(view as u64 ^ u64::from(mark).rotate_left(32)) ^ (view >> 64) as u64)
}

/// Mixes a string's length and its bytes, eight at a time.
#[inline]
pub(super) fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut chunks = bytes.chunks_exact(8);
    let mut hash = mix(bytes.len() as u64);
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        hash = mix(hash ^ u64::from_le_bytes(word));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut word = [0; 8];
        word[..rest.len()].copy_from_slice(rest);
        hash = mix(hash ^ u64::from_le_bytes(word));
    }
    hash
}

/// A folded multiply: the product's halves, xored.
#[inline]
pub(super) fn mix(x: u64) -> u64 {
    let product = u128::from(x) * 0x9E37_79B9_7F4A_7C15;
    (product as u64) ^ ((product >> 64) as u64)
}
