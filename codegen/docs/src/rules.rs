//! Rule sentences (being written).
