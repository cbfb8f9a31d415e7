using System.Globalization;
using ScottPlot;

// Reads the soak CSV written by benchmarks/soak/run.sh and draws server RSS (left axis) and CPU % of one
// core (right axis) over time, with the end of the bench marked, to <outDir>/soak-rss.png.
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: SoakPlot <soak.csv> <outDir>");
    return 2;
}

var inv = CultureInfo.InvariantCulture;
var lines = File.ReadAllLines(args[0]);
var header = lines[0].Split(',');
int Col(string name) => Array.IndexOf(header, name);
int cT = Col("t_s"), cRss = Col("rss_kb"), cTicks = Col("cpu_ticks"), cClk = Col("clk_tck"), cPhase = Col("phase");

var t = new List<double>();
var rssMiB = new List<double>();
var cpuT = new List<double>();
var cpuPct = new List<double>();
double benchEnd = double.NaN;
double prevT = double.NaN, prevTicks = double.NaN;
for (var i = 1; i < lines.Length; i++)
{
    var f = lines[i].Split(',');
    if (f.Length < header.Length || f[cRss].Length == 0)
    {
        continue; // the process may have exited between reads
    }

    var ti = double.Parse(f[cT], inv);
    var ticks = double.Parse(f[cTicks], inv);
    var clk = double.Parse(f[cClk], inv);
    t.Add(ti);
    rssMiB.Add(double.Parse(f[cRss], inv) / 1024.0);
    if (!double.IsNaN(prevT) && ti > prevT)
    {
        // CPU is cumulative ticks; the rate over each sampling interval is what a `top` column would show.
        cpuT.Add(ti);
        cpuPct.Add((ticks - prevTicks) / clk / (ti - prevT) * 100.0);
    }

    if (double.IsNaN(benchEnd) && f[cPhase] == "idle")
    {
        benchEnd = ti;
    }

    prevT = ti;
    prevTicks = ticks;
}

var plt = new Plot();
plt.Title("KCP echo server under soak: RSS and CPU");
plt.XLabel("time since server start (s)");

var rss = plt.Add.Scatter(t.ToArray(), rssMiB.ToArray());
rss.LegendText = "RSS (MiB)";
rss.MarkerSize = 0;
rss.LineWidth = 2;
rss.Color = Colors.Blue;
plt.Axes.Left.Label.Text = "RSS (MiB)";

var cpu = plt.Add.Scatter(cpuT.ToArray(), cpuPct.ToArray());
cpu.LegendText = "CPU (% of one core)";
cpu.MarkerSize = 0;
cpu.LineWidth = 1.5f;
cpu.Color = Colors.OrangeRed;
cpu.Axes.YAxis = plt.Axes.Right;
plt.Axes.Right.Label.Text = "CPU (% of one core)";

if (!double.IsNaN(benchEnd))
{
    var v = plt.Add.VerticalLine(benchEnd);
    v.LegendText = "bench finished";
    v.Color = Colors.Gray;
    v.LinePattern = LinePattern.Dashed;
}

plt.Axes.SetLimitsY(0, rssMiB.Count == 0 ? 1 : rssMiB.Max() * 1.15, plt.Axes.Left);
plt.Axes.SetLimitsY(0, cpuPct.Count == 0 ? 100 : Math.Max(100, cpuPct.Max() * 1.15), plt.Axes.Right);
plt.ShowLegend(Alignment.UpperLeft);

Directory.CreateDirectory(args[1]);
var outPng = Path.Combine(args[1], "soak-rss.png");
plt.SavePng(outPng, 1200, 600);
Console.WriteLine(outPng);
return 0;
