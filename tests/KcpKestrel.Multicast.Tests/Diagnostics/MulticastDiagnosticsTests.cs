using KcpKestrel.Multicast.Diagnostics;
using KcpKestrel.Multicast.Tests.Harness;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace KcpKestrel.Multicast.Tests.Diagnostics;

public sealed class MulticastDiagnosticsTests
{
    private const int Count = 200;

    [Fact]
    public async Task Metrics_AfterMessagesFlow_ReportEachSideTaggedByGroup()
    {
        using var metrics = new MulticastMetrics(meterFactory: null);
        using var sent = new MetricCollector<long>(metrics.Meter, "kcpkestrel.multicast.messages.sent");
        using var received = new MetricCollector<long>(metrics.Meter, "kcpkestrel.multicast.messages.received");
        using var packets = new MetricCollector<long>(metrics.Meter, "kcpkestrel.multicast.packets.received");
        var group = LoopbackGroup.V4(node: 2);
        var receiver = new CheckingReceiver();
        using (var subscriber = new MulticastTransport(group, receiver, logger: null, metrics, topics: []))
        using (var publisher = new MulticastTransport(LoopbackGroup.Member(group, node: 1), receiver: null, logger: null, metrics, topics: []))
        {
            Publish(publisher, Count);
            await TestWaits.WaitUntilAsync(() => receiver.Next >= Count, $"{Count} messages");

            sent.RecordObservableInstruments();
            received.RecordObservableInstruments();
            packets.RecordObservableInstruments();
            var tag = subscriber.Group.ToString();
            Assert.Contains(sent.GetMeasurementSnapshot(), m => m.Value == Count && (string?)m.Tags[MulticastMetrics.GroupTag] == tag);
            Assert.Contains(received.GetMeasurementSnapshot(), m => m.Value == Count && (string?)m.Tags[MulticastMetrics.GroupTag] == tag);
            Assert.Contains(packets.GetMeasurementSnapshot(), m => m.Value >= 1);
        }

        // Disposed transports leave the meter.
        received.Clear();
        received.RecordObservableInstruments();
        Assert.Empty(received.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task Metrics_ForgedDatagramsAndFecParity_AreReported()
    {
        using var metrics = new MulticastMetrics(meterFactory: null);
        using var forged = new MetricCollector<long>(metrics.Meter, "kcpkestrel.multicast.packets.forged");
        using var parity = new MetricCollector<long>(metrics.Meter, "kcpkestrel.multicast.fec.parity_sent");
        var group = LoopbackGroup.V4(node: 1, o => (o.Crypt, o.Key, o.DataShards, o.ParityShards) = ("aes-256-gcm", "right", 4, 2));
        var receiver = new CheckingReceiver();
        using var subscriber = new MulticastTransport(
            LoopbackGroup.Member(group, node: 2, o => (o.Crypt, o.Key, o.DataShards, o.ParityShards) = ("aes-256-gcm", "wrong", 4, 2)), receiver, logger: null, metrics, topics: []);
        using var publisher = new MulticastTransport(group, receiver: null, logger: null, metrics, topics: []);
        Publish(publisher, 400); // 40 Data packets (a flush every 10 messages), so 10 FEC groups of 4
        await TestWaits.WaitUntilAsync(() => subscriber.CodecCounters!.ForgedDropped >= 40, "forgeries counted");

        forged.RecordObservableInstruments();
        parity.RecordObservableInstruments();
        Assert.Contains(forged.GetMeasurementSnapshot(), m => m.Value >= 40);
        Assert.Contains(parity.GetMeasurementSnapshot(), m => m.Value >= 20);
        Assert.Equal(0, receiver.Next);
    }

    [Fact]
    public async Task HostedTransport_ReportsOnTheHostsMeterAndLogsThroughItsLoggerFactory()
    {
        var group = LoopbackGroup.V4(node: 2);
        var receiver = new CheckingReceiver();
        using var host = Host.CreateDefaultBuilder()
            .ConfigureServices(s => s.AddSingleton<IMulticastReceiver>(receiver).AddMulticast(o => (o.Group, o.Interface, o.NodeId, o.Join) = (group.Group, group.Interface, 2, MulticastJoin.Beginning)))
            .ConfigureLogging(l => l.AddFakeLogging())
            .Build();
        var meterFactory = host.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var received = new MetricCollector<long>(meterFactory, MulticastMetrics.MeterName, "kcpkestrel.multicast.messages.received");
        await host.StartAsync();
        using (var publisher = new MulticastTransport(LoopbackGroup.Member(group, node: 1)))
        {
            Publish(publisher, Count);
            await TestWaits.WaitUntilAsync(() => receiver.Next >= Count, $"{Count} messages at the hosted subscriber");
        }

        received.RecordObservableInstruments();
        Assert.Equal(Count, received.LastMeasurement?.Value);
        await host.StopAsync();
        var events = host.Services.GetFakeLogCollector().GetSnapshot().Where(r => r.Category == typeof(MulticastTransport).FullName).Select(r => r.Id.Name);
        Assert.Equal(["JoinedGroup", "PublisherAppeared", "LeftGroup"], events);
    }

    [Fact]
    public async Task Logger_JoinPublisherAndLeave_AreLoggedOnceEachNotPerMessage()
    {
        var logger = new FakeLogger();
        var group = LoopbackGroup.V4(node: 2);
        var receiver = new CheckingReceiver();
        using (var subscriber = new MulticastTransport(group, receiver, logger, metrics: null, topics: []))
        using (var publisher = new MulticastTransport(LoopbackGroup.Member(group, node: 1)))
        {
            Publish(publisher, Count);
            await TestWaits.WaitUntilAsync(() => receiver.Next >= Count, $"{Count} messages");
        }

        var events = logger.Collector.GetSnapshot().Select(r => r.Id.Name).ToList();
        Assert.Equal(["JoinedGroup", "PublisherAppeared", "LeftGroup"], events);
    }

    [Fact]
    public async Task CallbackErrors_AreCountedEachAndLoggedAtGrowingIntervals()
    {
        var logger = new FakeLogger();
        using var metrics = new MulticastMetrics(meterFactory: null);
        using var errors = new MetricCollector<long>(metrics.Meter, "kcpkestrel.multicast.receive.callback_errors");
        var group = LoopbackGroup.V4(node: 2, o => o.Join = MulticastJoin.Beginning);
        using var subscriber = new MulticastTransport(group, new ThrowingReceiver(), logger, metrics, topics: []);
        using var publisher = new MulticastTransport(LoopbackGroup.Member(group, node: 1), receiver: null, logger: null, metrics, topics: []);
        Publish(publisher, 5);
        await TestWaits.WaitUntilAsync(() => subscriber.CallbackErrors >= 5, "five callback errors");

        errors.RecordObservableInstruments();
        Assert.Contains(errors.GetMeasurementSnapshot(), m => m.Value == 5);
        var logged = logger.Collector.GetSnapshot().Where(r => r.Id.Name == "ReceiveCallbackFailed").ToList();
        Assert.Equal(3, logged.Count); // the 1st, 2nd and 4th
        Assert.All(logged, r => Assert.Equal(LogLevel.Error, r.Level));
    }

    [Theory]
    [InlineData(MulticastGapPolicy.Resync)]
    [InlineData(MulticastGapPolicy.Stop)]
    public void LoggingReceiver_UnrecoverableGap_LogsThePolicyAndPassesItOn(MulticastGapPolicy policy)
    {
        var logger = new FakeLogger();
        var inner = new CheckingReceiver();
        IMulticastReceiver receiver = new LoggingReceiver(inner, logger, new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 1), policy);
        receiver.OnUnrecoverable(publisher: 7, stream: 1, first: 10, last: 19);
        Assert.Equal(10, inner.Unrecoverable);
        var record = Assert.Single(logger.Collector.GetSnapshot());
        Assert.Equal(LogLevel.Warning, record.Level);
        Assert.Contains(policy.ToString(), record.Message, StringComparison.Ordinal);
    }

    private static void Publish(MulticastTransport publisher, int count)
    {
        var message = new byte[70];
        for (var i = 0; i < count; i++)
        {
            publisher.Offer(message.AsSpan(0, SequenceMessages.Write(message, i, message.Length)), topic: 1, flush: i % 10 == 9 || i == count - 1);
        }
    }

    private sealed class ThrowingReceiver : IMulticastReceiver
    {
        public void OnMessage(byte topic, ReadOnlySpan<byte> message) => throw new InvalidOperationException("receiver bug");

        public void OnUnrecoverable(ushort publisher, uint stream, ulong first, ulong last)
        {
        }

        public void OnPublisherGone(ushort publisher, uint stream)
        {
        }
    }
}
