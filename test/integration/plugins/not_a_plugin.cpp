// A shared object that has nothing to do with streamline.
extern "C" int answer() { return 42; }
