using System.Diagnostics;
using System.Net;
using System.Text.Json;
using KcpKestrel.Cli.Tests.Infrastructure;

namespace KcpKestrel.Cli.Tests;

/// <summary><c>serve</c> prints one JSON line of its KCP counters on SIGTERM/SIGINT (a process of its own, a real signal).</summary>
public sealed class ServeStopReportTests
{
    private static readonly string[] Kcp = ["--crypt", "aes", "--key", "cli-test", "--datashard", "10", "--parityshard", "3", "--mode", "fast3"];

    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public async Task Signal_PrintsOneStoppedJsonLine_WithConsistentCounters(string signal)
    {
        using var process = CliProcess.Start(["serve", "--kcp", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--instance-id", "stop-report", .. Kcp]);
        try
        {
            var error = process.StandardError.ReadToEndAsync();
            var ready = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.NotNull(ready);
            Assert.Matches(@"^listening kcp=127\.0\.0\.1:\d+ tcp=127\.0\.0\.1:\d+ instance=stop-report$", ready);
            var kcp = CliRunner.Endpoint(ready, "kcp");

            var (benchCode, bench, _) = await CliRunner.RunAsync(["bench", "--kcp", kcp.ToString(), "--workload", "echo", "--bytes", "256K", .. Kcp]);
            var benchJson = CliRunner.LastLineJson(bench);
            Assert.True(benchJson.GetProperty("ok").GetBoolean(), bench.Text);
            Assert.Equal(0, benchCode);
            Assert.True(benchJson.GetProperty("kernel_drops").GetInt64() >= 0, bench.Text);

            await CliProcess.SignalAsync(process, signal);

            var rest = await process.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {await error}");

            var lines = rest.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var line = Assert.Single(lines);
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            Assert.Equal("stopped", root.GetProperty("event").GetString());
            Assert.Equal("stop-report", root.GetProperty("instance").GetString());
            var counters = root.GetProperty("kcp");
            var accepted = counters.GetProperty("sessionsAccepted").GetInt64();
            Assert.True(accepted >= 1, line);
            Assert.InRange(counters.GetProperty("sessionsValidated").GetInt64(), 1, accepted);
            Assert.True(counters.GetProperty("bytesIn").GetInt64() > 256 << 10, line);
            Assert.True(counters.GetProperty("bytesOut").GetInt64() > 256 << 10, line);
            var datagramsIn = counters.GetProperty("datagramsIn").GetInt64();
            Assert.True(datagramsIn > 0 && counters.GetProperty("datagramsOut").GetInt64() > 0, line);
            Assert.Equal(0, counters.GetProperty("replaysDropped").GetInt64());
            Assert.Equal(0, counters.GetProperty("unprovenTimeouts").GetInt64());
            Assert.Equal((0, 0), (counters.GetProperty("migrations").GetInt64(), counters.GetProperty("pathChecksFailed").GetInt64()));
            Assert.True(counters.GetProperty("amplificationLimited").GetInt64() >= 0, line);
            Assert.Equal(1L << 30, counters.GetProperty("receiveBudget").GetInt64());
            Assert.InRange(counters.GetProperty("receiveBytesHeld").GetInt64(), 0, 1L << 30);
            Assert.InRange(counters.GetProperty("receiveBytesPeak").GetInt64(), 1, 1L << 30);
            Assert.Equal(0, counters.GetProperty("sessionsClosedForMemory").GetInt64());
            Assert.True(counters.GetProperty("kernelDrops").GetInt64() >= 0, line);

            // The default SocketBufferSize (4 MiB), or what the kernel capped it at: never nothing.
            Assert.InRange(counters.GetProperty("socketReceiveBuffer").GetInt64(), 1, 4 << 20);
            Assert.InRange(counters.GetProperty("socketSendBuffer").GetInt64(), 1, 4 << 20);

            var dropped = counters.GetProperty("dropped");
            long droppedTotal = 0;
            foreach (var reason in dropped.EnumerateObject())
            {
                Assert.True(reason.Value.GetInt64() >= 0, line);
                droppedTotal += reason.Value.GetInt64();
            }

            Assert.Equal(0, dropped.GetProperty("cipher").GetInt64());
            Assert.Equal(counters.GetProperty("replaysDropped").GetInt64(), dropped.GetProperty("replay").GetInt64());
            Assert.Equal(0, dropped.GetProperty("session_budget").GetInt64());
            Assert.Equal(0, dropped.GetProperty("listener_budget").GetInt64());
            Assert.True(droppedTotal < datagramsIn, line);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }
}
