//! Prints the prefilter's needles, one a line: the strings whose presence makes kubemig parse
//! a file. `bench/run.sh` gives them to ripgrep so both search for the same strings.

fn main() {
    let cat = kubemig::catalogue::Catalogue::embedded().expect("the embedded catalogue loads");
    for n in kubemig::prefilter::Prefilter::needles(&cat) {
        println!("{n}");
    }
}
