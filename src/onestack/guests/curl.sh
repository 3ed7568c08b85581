#!/bin/sh
# /usr/bin/curl of the onestack busybox image: the curl options that signal scripts use
# (-X GET|POST, -H, -d/--data/--data-binary [@file], -i, -s, -S, -k, -f, -L, -o FILE),
# carried out by busybox wget. Anything else is refused. See docs/image-format.md.
method=GET data="" have_data=0 out=- url=""
set -f
headers=""
while [ $# -gt 0 ]; do
  case "$1" in
    -X|--request) method="$2"; shift ;;
    -H|--header) headers="$headers
$2"; shift ;;
    -d|--data|--data-binary|--data-raw)
      data="$2"; have_data=1
      case "$data" in @*) data="$(cat "${data#@}")" ;; esac
      shift ;;
    -o|--output) out="$2"; shift ;;
    -i|--include|-s|--silent|-S|--show-error|-k|--insecure|-f|--fail|-L|--location|-v) ;;
    -*) echo "curl (onestack busybox): option $1 is not supported" >&2; exit 2 ;;
    *) url="$1" ;;
  esac
  shift
done
[ -n "$url" ] || { echo "curl (onestack busybox): no URL given" >&2; exit 2; }
set --
old_ifs="$IFS"
IFS='
'
for header in $headers; do
  [ -n "$header" ] && set -- "$@" --header "$header"
done
IFS="$old_ifs"
case "$method" in
  POST) [ "$have_data" = 1 ] || data="" ; exec wget -q -O "$out" "$@" --post-data "$data" "$url" ;;
  GET) [ "$have_data" = 1 ] && exec wget -q -O "$out" "$@" --post-data "$data" "$url"
       exec wget -q -O "$out" "$@" "$url" ;;
  *) echo "curl (onestack busybox): method $method is not supported" >&2; exit 2 ;;
esac
