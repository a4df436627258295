# bench/video-info.gp: the picture of bench/video-info.sh's figures (drawn by it):
#   gnuplot -e "dat='FILE'; out='OUT.svg'; static=N; when='...'" bench/video-info.gp
# FILE: one line per backend delay: delay_ms clipapi_rps reference_rps clipapi_p99 reference_p99
set terminal svg size 1000,480 dynamic enhanced font "sans,12" background rgb "white"
set output out
set multiplot layout 1,2 title sprintf("GET /api/videos/v50 (50 clips), 64 connections, replay backend with a delay per call\n{/*0.8 %s}", when)
set xlabel "backend delay per call (ms)"
set xrange [-4:54]
set xtics ("0" 0, "20" 20, "50" 50)
set logscale y
set grid ytics
set offsets 0, 0, graph 0.12, 0
set key below horizontal maxrows 1 width -2
set ylabel "requests/s (log scale)"
set yrange [10:*]
plot static with lines dt 2 lw 2 lc rgb "gray40" title sprintf("nginx, static file of the same bytes: %.0f/s", static), \
     dat using 1:2 with linespoints lw 2 pt 7 ps 1.2 lc rgb "#1f77b4" title "clipapi", \
     dat using 1:2:(sprintf("%.0f", $2)) with labels offset 0,0.9 tc rgb "#1f77b4" notitle, \
     dat using 1:3 with linespoints lw 2 pt 5 ps 1.2 lc rgb "#d62728" title "reference (Python)", \
     dat using 1:3:(sprintf("%.0f", $3)) with labels offset 0,-0.9 tc rgb "#d62728" notitle
set ylabel "p99 latency (ms, log scale)"
set yrange [1:*]

plot dat using 1:4 with linespoints lw 2 pt 7 ps 1.2 lc rgb "#1f77b4" title "clipapi", \
     dat using 1:4:(sprintf("%.0f", $4)) with labels offset 0,0.9 tc rgb "#1f77b4" notitle, \
     dat using 1:5 with linespoints lw 2 pt 5 ps 1.2 lc rgb "#d62728" title "reference (Python)", \
     dat using 1:5:(sprintf("%.0f", $5)) with labels offset 0,-0.9 tc rgb "#d62728" notitle
unset multiplot
