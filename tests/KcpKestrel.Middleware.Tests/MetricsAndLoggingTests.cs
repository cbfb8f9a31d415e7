using KcpKestrel.Middleware.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace KcpKestrel.Middleware.Tests;

public sealed class MetricsAndLoggingTests
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Metrics_PerListener_ReportDurationBytesReasonAndKcpSessionFigures()
    {
        await using var host = await ThreeListenerHost.StartAsync(l => l.UseConnectionMetrics());
        using var duration = MetricsReader.Collect<double>(host.Services, "kcpkestrel.connection.duration");
        using var received = MetricsReader.Collect<long>(host.Services, "kcpkestrel.connection.bytes_received");
        using var sent = MetricsReader.Collect<long>(host.Services, "kcpkestrel.connection.bytes_sent");
        using var srtt = MetricsReader.Collect<double>(host.Services, "kcpkestrel.kcp.smoothed_rtt");
        using var retransmissions = MetricsReader.Collect<long>(host.Services, "kcpkestrel.kcp.retransmissions");

        var payload = new byte[10_000];
        new Random(3).NextBytes(payload);
        foreach (var listener in ThreeListenerHost.All)
        {
            await using var client = await host.ConnectAsync(listener);
            Assert.True(await client.ReadGreetingAsync(Step));
            Assert.Equal(payload, await client.EchoAsync(payload, Step));
        }

        await duration.WaitForMeasurementsAsync(3, Step);
        foreach (var listener in ThreeListenerHost.All)
        {
            var endpoint = host.EndpointTag(listener);
            var m = Assert.Single(duration.GetMeasurementSnapshot(), m => Equals(m.Tags["endpoint"], endpoint));
            Assert.Equal(listener == Listener.Kcp ? "kcp" : "tcp", m.Tags["transport"]);
            Assert.False(string.IsNullOrEmpty(m.Tags["reason"] as string));
            Assert.True(m.Value > 0);
            Assert.Equal(payload.Length, MetricsReader.Sum(received, "endpoint", endpoint));
            Assert.Equal(payload.Length + 1, MetricsReader.Sum(sent, "endpoint", endpoint));
        }

        var kcpEndpoint = host.EndpointTag(Listener.Kcp);
        Assert.Single(srtt.GetMeasurementSnapshot(), m => Equals(m.Tags["endpoint"], kcpEndpoint) && Equals(m.Tags["transport"], "kcp"));
        Assert.Single(retransmissions.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task Logging_WritesOpenAndCloseLines_AndABoundedHexDumpAtTrace()
    {
        await using var host = await ThreeListenerHost.StartAsync(
            l => l.UseConnectionLifetimeLogging(o => o.HexDumpBytes = 8),
            logging: b => b.AddFakeLogging().AddFilter("KcpKestrel.Middleware", LogLevel.Trace));
        var logs = host.Services.GetFakeLogCollector();

        foreach (var listener in ThreeListenerHost.All)
        {
            await using var client = await host.ConnectAsync(listener);
            Assert.True(await client.ReadGreetingAsync(Step));
            await client.EchoAsync("hello, middleware"u8.ToArray(), Step);
        }

        await TestWaits.WaitUntilAsync(() => Count(logs, 2) >= 3, "three connection-closed log records");
        var records = logs.GetSnapshot();
        Assert.Equal(3, records.Count(r => r.Id.Id == 1 && r.Message.Contains("127.0.0.1", StringComparison.Ordinal)));
        Assert.Equal(3, records.Count(r => r.Id.Id == 2 && r.Level == LogLevel.Information));

        // First 8 bytes each way, never more: "hello, m" in, the greeting then "hello, " out.
        var dumps = records.Where(r => r.Id.Id == 3).ToList();
        Assert.All(dumps, r => Assert.Equal(LogLevel.Trace, r.Level));
        Assert.Equal(3, dumps.Count(r => r.Message.Contains("in bytes 0..8: 68656C6C6F2C206D", StringComparison.Ordinal)));
        Assert.Equal(3, dumps.Count(r => r.Message.Contains("out bytes 0..1: 41", StringComparison.Ordinal)));
        Assert.DoesNotContain(dumps, r => r.Message.Contains("..9", StringComparison.Ordinal) || r.Message.Contains("..1" + "0", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Logging_WithoutTrace_NeverDumpsBytes()
    {
        await using var host = await ThreeListenerHost.StartAsync(
            l => l.UseConnectionLifetimeLogging(o => o.HexDumpBytes = 64),
            logging: b => b.AddFakeLogging().AddFilter("KcpKestrel.Middleware", LogLevel.Information));
        var logs = host.Services.GetFakeLogCollector();
        await using (var client = await host.ConnectAsync(Listener.Sockets))
        {
            Assert.True(await client.ReadGreetingAsync(Step));
            await client.EchoAsync("abc"u8.ToArray(), Step);
        }

        await TestWaits.WaitUntilAsync(() => Count(logs, 2) >= 1, "a connection-closed log record");
        Assert.DoesNotContain(logs.GetSnapshot(), r => r.Id.Id == 3);
    }

    private static int Count(FakeLogCollector logs, int eventId) => logs.GetSnapshot().Count(r => r.Id.Id == eventId);
}
