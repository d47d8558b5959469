# Sourced by the scripts: `usage_if_asked "$@"` prints the script's opening
# comment (its usage) and exits when the first argument is -h or --help;
# `print_usage` prints it.
print_usage() {
  awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"
}
usage_if_asked() {
  case "${1:-}" in
    -h | --help) print_usage; exit 0 ;;
  esac
}
