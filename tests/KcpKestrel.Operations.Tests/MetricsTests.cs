using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using KcpKestrel.Operations.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using KcpKestrel.Transport.Kcp;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Options;

namespace KcpKestrel.Operations.Tests;

public sealed class MetricsTests
{
    private const string Meter = "KcpKestrel";

    [Fact]
    public async Task TrafficThroughAListener_ShowsInTheMeter()
    {
        await using var host = await OpsHost.StartEchoAsync();
        var meterFactory = host.Services.GetRequiredService<IMeterFactory>();
        using var received = new MetricCollector<long>(meterFactory, Meter, "kcp.datagrams.received");
        using var sent = new MetricCollector<long>(meterFactory, Meter, "kcp.datagrams.sent");
        using var bytesIn = new MetricCollector<long>(meterFactory, Meter, "kcp.bytes.received");
        using var bytesOut = new MetricCollector<long>(meterFactory, Meter, "kcp.bytes.sent");
        using var accepted = new MetricCollector<long>(meterFactory, Meter, "kcp.sessions.accepted");
        using var active = new MetricCollector<long>(meterFactory, Meter, "kcp.sessions.active");
        using var limit = new MetricCollector<long>(meterFactory, Meter, "kcp.sessions.limit");
        using var fecRecovered = new MetricCollector<long>(meterFactory, Meter, "kcp.fec.recovered");
        using var retransmits = new MetricCollector<long>(meterFactory, Meter, "kcp.segments.retransmitted");
        using var sendQueue = new MetricCollector<long>(meterFactory, Meter, "kcp.queue.send");
        using var closed = new MetricCollector<long>(meterFactory, Meter, "kcp.sessions.closed");
        using var rtt = new MetricCollector<double>(meterFactory, Meter, "kcp.session.rtt");
        using var duration = new MetricCollector<double>(meterFactory, Meter, "kcp.session.duration");

        await using var client = Client.Create();
        var connection = await client.ConnectAsync(host.KcpEndPoint);
        await Client.EchoAsync(connection, 200_000);

        await TestWaits.WaitUntilAsync(
            () =>
            {
                active.RecordObservableInstruments();
                return active.LastMeasurement?.Value == 1;
            },
            "one active session");

        received.RecordObservableInstruments();
        sent.RecordObservableInstruments();
        bytesIn.RecordObservableInstruments();
        bytesOut.RecordObservableInstruments();
        accepted.RecordObservableInstruments();
        limit.RecordObservableInstruments();
        fecRecovered.RecordObservableInstruments();
        retransmits.RecordObservableInstruments();
        sendQueue.RecordObservableInstruments();

        var endpoint = host.KcpEndPoint.IPEndPoint.ToString();
        Assert.Equal(endpoint, active.LastMeasurement!.Tags["endpoint"]);
        Assert.True(received.LastMeasurement!.Value >= 200_000 / 1400, $"datagrams in {received.LastMeasurement.Value}");
        Assert.True(sent.LastMeasurement!.Value >= 200_000 / 1400, $"datagrams out {sent.LastMeasurement.Value}");
        Assert.True(bytesIn.LastMeasurement!.Value >= 200_000);
        Assert.True(bytesOut.LastMeasurement!.Value >= 200_000);
        Assert.Equal(1, accepted.LastMeasurement!.Value);
        Assert.Equal(10_000, limit.LastMeasurement!.Value);
        Assert.True(fecRecovered.LastMeasurement!.Value >= 0);
        Assert.Equal(new[] { "early", "fast", "timeout" }, retransmits.GetMeasurementSnapshot().Select(m => (string)m.Tags["kind"]!).Order());
        Assert.True(sendQueue.LastMeasurement!.Value >= 0);

        // A graceful close from the client ends the server's session too.
        await connection.Transport.Output.CompleteAsync();
        await TestWaits.WaitUntilAsync(() => closed.GetMeasurementSnapshot().Count == 1, "one closed-session measurement");
        var close = closed.LastMeasurement!;
        Assert.Equal(1, close.Value);
        Assert.Equal(endpoint, close.Tags["endpoint"]);
        Assert.Contains((string)close.Tags["reason"]!, new[] { "remote_close", "local_close" });
        // The histograms are recorded right after the close counter, not atomically with it.
        await TestWaits.WaitUntilAsync(() => rtt.GetMeasurementSnapshot().Count == 1 && duration.GetMeasurementSnapshot().Count == 1, "one rtt and one duration measurement");
        // KCP's srtt is whole milliseconds: on loopback it is often 0, so only its range is checked.
        Assert.InRange(rtt.LastMeasurement!.Value, 0, 1_000);

        await TestWaits.WaitUntilAsync(
            () =>
            {
                active.RecordObservableInstruments();
                return active.LastMeasurement?.Value == 0;
            },
            "no active session");
        await connection.DisposeAsync();
    }

    [Fact]
    public async Task UdpGsoAndGroCounters_AreInTheMeter()
    {
        await using var host = await OpsHost.StartEchoAsync();
        var meterFactory = host.Services.GetRequiredService<IMeterFactory>();
        using var gsoMessages = new MetricCollector<long>(meterFactory, Meter, "kcp.io.gso.messages");
        using var gsoSegments = new MetricCollector<long>(meterFactory, Meter, "kcp.io.gso.segments");
        using var gsoDisabled = new MetricCollector<long>(meterFactory, Meter, "kcp.io.gso.disabled");
        using var groBuffers = new MetricCollector<long>(meterFactory, Meter, "kcp.io.gro.buffers");
        using var groSegments = new MetricCollector<long>(meterFactory, Meter, "kcp.io.gro.segments");

        await using var client = Client.Create();
        var connection = await client.ConnectAsync(host.KcpEndPoint);
        await Client.EchoAsync(connection, 1 << 20);

        gsoMessages.RecordObservableInstruments();
        gsoSegments.RecordObservableInstruments();
        gsoDisabled.RecordObservableInstruments();
        groBuffers.RecordObservableInstruments();
        groSegments.RecordObservableInstruments();

        Assert.Equal(host.KcpEndPoint.IPEndPoint.ToString(), gsoMessages.LastMeasurement!.Tags["endpoint"]);
        Assert.Equal(0, gsoDisabled.LastMeasurement!.Value);
        Assert.True(groSegments.LastMeasurement!.Value >= groBuffers.LastMeasurement!.Value);
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        if (Transport.Kcp.Io.Datagrams.UdpOffload.TryEnableGso(probe, allowed: true))
        {
            // The echo's bulk replies leave as GSO messages of several datagrams each.
            Assert.True(gsoMessages.LastMeasurement!.Value > 0, "no GSO message in a 1 MiB echo");
            Assert.True(gsoSegments.LastMeasurement!.Value >= 2 * gsoMessages.LastMeasurement.Value);
        }
        else
        {
            Assert.Equal(0, gsoMessages.LastMeasurement!.Value);
        }

        await connection.DisposeAsync();
    }

    [Fact]
    public async Task ForgedDatagrams_AreCountedByReason()
    {
        await using var host = await OpsHost.StartEchoAsync();
        var meterFactory = host.Services.GetRequiredService<IMeterFactory>();
        using var dropped = new MetricCollector<long>(meterFactory, Meter, "kcp.datagrams.dropped");

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var junk = new byte[200];
        for (var i = 0; i < 10; i++)
        {
            junk[0] = (byte)i;
            await socket.SendToAsync(junk, SocketFlags.None, new IPEndPoint(IPAddress.Loopback, host.KcpEndPoint.IPEndPoint.Port));
        }

        long Cipher()
        {
            dropped.RecordObservableInstruments();
            return dropped.GetMeasurementSnapshot().LastOrDefault(m => (string?)m.Tags["reason"] == "cipher")?.Value ?? 0;
        }

        await TestWaits.WaitUntilAsync(() => Cipher() == 10, "10 cipher drops");
        var reasons = dropped.GetMeasurementSnapshot().Select(m => (string)m.Tags["reason"]!).ToHashSet();
        Assert.Equal(
            new[] { "accept_queue_full", "cipher", "fec", "handover", "listener_budget", "malformed", "max_sessions", "no_session", "oversize", "rate_limited", "replay", "send_dropped", "session_budget", "tombstone", "unbound", "unvalidated", "wrong_conv" },
            reasons.Order());
    }

    [Fact]
    public async Task FactoryWithoutDi_OwnsItsMeter_AndADisposedListenerLeavesIt()
    {
        using var factory = new KcpConnectionListenerFactory(Options.Create(new KcpTransportOptions()));

        // Meters created without a factory have no scope: the collector listens to exactly those.
        using var active = new MetricCollector<long>(null, Meter, "kcp.sessions.active");
        var listener = await factory.BindAsync(new KcpEndPoint(IPAddress.Loopback, 0) { Configure = k => { k.Crypt = "aes"; k.Key = OpsHost.Key; k.IoLoopCount = 1; } });
        var bound = ((KcpEndPoint)listener.EndPoint).IPEndPoint;

        await using (var client = Client.Create())
        {
            var connection = await client.ConnectAsync(bound);
            await connection.Transport.Output.WriteAsync(new byte[] { 1, 2, 3 });
            var accepted = await listener.AcceptAsync();
            Assert.NotNull(accepted);

            active.RecordObservableInstruments();
            var mine = active.GetMeasurementSnapshot().Where(m => (string?)m.Tags["endpoint"] == bound.ToString()).ToList();
            Assert.Equal(1, Assert.Single(mine).Value);
            await connection.DisposeAsync();
        }

        await listener.DisposeAsync();
        active.Clear();
        active.RecordObservableInstruments();
        Assert.DoesNotContain(active.GetMeasurementSnapshot(), m => (string?)m.Tags["endpoint"] == bound.ToString());
    }
}
