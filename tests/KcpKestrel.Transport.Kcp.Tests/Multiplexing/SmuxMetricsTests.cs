using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using KcpKestrel.Transport.Kcp.Tests.Infrastructure;

namespace KcpKestrel.Transport.Kcp.Tests.Multiplexing;

/// <summary>The smux instruments of the <c>KcpKestrel</c> meter, read as a collector would.</summary>
public sealed class SmuxMetricsTests
{
    [Fact]
    public async Task StreamsAndAFailedSession_ShowInTheMeter()
    {
        await using var host = await KcpTestHost.StartAsync<EchoConnectionHandler>(k => SmuxListenerTests.Smux(k, 2, compress: false));
        var endpoint = host.KcpEndPoint.IPEndPoint.ToString();
        var seen = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "KcpKestrel" && instrument.Name.StartsWith("kcp.smux.", StringComparison.Ordinal))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string? at = null;
            string? kind = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "endpoint")
                {
                    at = tag.Value as string;
                }
                else if (tag.Key is "kind" or "reason")
                {
                    kind = tag.Value as string;
                }
            }

            if (at == endpoint)
            {
                // Observable instruments report totals; the session-closed counter reports increments.
                seen.AddOrUpdate(kind is null ? instrument.Name : $"{instrument.Name}/{kind}", value, (_, old) => instrument.Name == "kcp.smux.sessions.closed" ? old + value : value);
            }
        });
        listener.Start();

        await using var factory = KcpTestHost.Client().CreateFactory();
        await using (var client = await SmuxTestClient.ConnectAsync(factory, host.KcpEndPoint, 2, compress: false))
        {
            for (var i = 0; i < 3; i++)
            {
                await SmuxListenerTests.EchoAsync(await client.OpenAsync(), 1000, i);
            }

            listener.RecordObservableInstruments();
            Assert.Equal(3, seen["kcp.smux.streams.accepted"]);
            Assert.Equal(1, seen["kcp.smux.sessions.active"]);
            Assert.InRange(seen["kcp.smux.streams.active"], 0, 3);
        }

        var broken = await factory.ConnectAsync(host.KcpEndPoint);
        await broken.Transport.Output.WriteAsync(new byte[] { 7, 7, 7, 7, 7, 7, 7, 7 });
        await TestWaits.WaitUntilAsync(() => seen.GetValueOrDefault("kcp.smux.sessions.closed/protocol_error") == 1, "the protocol error's session close");
        await broken.DisposeAsync();

        listener.RecordObservableInstruments();
        Assert.Equal(1, seen["kcp.smux.errors/protocol_error"]);
        Assert.Equal(0, seen["kcp.smux.errors/stream_refused"]);
    }
}
