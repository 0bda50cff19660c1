// Linked with every object of ngxwatch_core and ngxwatch_nginx (--whole-archive) and
// nothing of ngxwatch_host: it links only if no core code calls into the host library.
int main() { return 0; }
