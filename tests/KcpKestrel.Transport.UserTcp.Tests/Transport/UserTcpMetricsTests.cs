using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using KcpKestrel.Transport.UserTcp.Diagnostics;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Transport.UserTcp.Tests.Transport;

public sealed class UserTcpMetricsTests
{
    [Fact]
    public async Task ConnectionsAndPerStreamFiguresReachTheMeter()
    {
        var measurements = new ConcurrentQueue<(string Name, double Value, string? Reason)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == UserTcpMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => measurements.Enqueue((instrument.Name, value, ReasonOf(tags))));
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => measurements.Enqueue((instrument.Name, value, ReasonOf(tags))));
        listener.Start();

        await using (var pair = await UserTcpPair.StartAsync(listen => listen.Run(async connection =>
        {
            var all = await TestWaits.ReadToEndAsync(connection.Transport.Input);
            await connection.Transport.Output.WriteAsync(all);
            await connection.Transport.Output.CompleteAsync();
        })))
        {
            await using var connection = await pair.Client.ConnectAsync(pair.ServerEndPoint);
            await connection.Transport.Output.WriteAsync(new byte[10_000]);
            await connection.Transport.Output.CompleteAsync();
            Assert.Equal(10_000, (await TestWaits.ReadToEndAsync(connection.Transport.Input).WaitAsync(TestWaits.Bound)).Length);
            await TestWaits.WaitUntilAsync(() => Count(measurements, "usertcp.connections.closed", "closed") >= 2, "both ends to count their connection closed");

            listener.RecordObservableInstruments();
            Assert.Contains(measurements, m => m.Name == "usertcp.bytes.in" && m.Value >= 10_000);
            Assert.Contains(measurements, m => m.Name == "usertcp.packets.dropped" && m.Reason == "bad_tcp_checksum");
        }

        // At least: the meter's name is process-wide, so tests running beside this one may add their own.
        Assert.True(Count(measurements, "usertcp.connections.opened", null) >= 2);
        Assert.Contains(measurements, m => m.Name == "usertcp.connection.srtt");
        Assert.Contains(measurements, m => m.Name == "usertcp.connection.bytes_in" && m.Value == 10_000);
    }

    private static int Count(IEnumerable<(string Name, double Value, string? Reason)> measurements, string name, string? reason) =>
        measurements.Count(m => m.Name == name && (reason is null || m.Reason == reason));

    private static string? ReasonOf(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "reason")
            {
                return tag.Value as string;
            }
        }

        return null;
    }
}
