using System.Diagnostics;
using KcpKestrel.Cli.Bench;
using KcpKestrel.Multicast;

namespace KcpKestrel.Cli.Multicast;

/// <summary>
/// <c>multicast bench --workload pingpong</c>: two transports in this process (two sockets, two receive threads,
/// two node ids) on one group. The pinger sends on the topic, the echo answers on the next topic from its receive
/// callback, and the pinger sends the next ping from its own callback: one message in flight, no thread hand-off
/// outside the transports, so the RTT is the library's and the kernel's, not a scheduler's.
/// </summary>
internal static class PingPongBench
{
    public static async Task<int> RunAsync(CliIo io, MulticastBenchSettings settings, CancellationToken cancellationToken)
    {
        var warmup = (int)Math.Clamp(settings.Count / 10, 10, 1000);
        var pingTopic = settings.Topic;
        var pongTopic = (byte)(settings.Topic + 1);
        var pingerOptions = Configure(settings.NewOptions(), settings.Size);
        var echoOptions = Configure(settings.NewOptions(), settings.Size);
        echoOptions.NodeId = (ushort)Math.Max(1, (pingerOptions.NodeId + 1) % ushort.MaxValue);
        var pinger = new Pinger(settings.Size, warmup, settings.Count, pingTopic);
        var echo = new Echo(pongTopic);
        using var echoTransport = new MulticastTransport(echoOptions, echo, pingTopic);
        echo.Transport = echoTransport;
        using var pingerTransport = new MulticastTransport(pingerOptions, pinger, pongTopic);
        pinger.Transport = pingerTransport;

        pinger.SendNext();
        var finished = await ProgressLine.RunAsync(
            io,
            "pingpong",
            () => (pinger.Recorder.Count, pingerTransport.SubscriberCounters!.NaksSent + echoTransport.SubscriberCounters!.NaksSent),
            WaitAsync(pinger.Done, settings.Limit, cancellationToken)).ConfigureAwait(false);
        var rtt = pinger.Recorder.Summary();
        var cpu = Environment.CpuUsage.TotalTime - pinger.CpuAtMeasureStart;
        if (!finished)
        {
            await io.Error.WriteLineAsync($"stopped after {rtt.Count} of {settings.Count} round trips (--seconds)").ConfigureAwait(false);
        }

        await MulticastRuns.WriteJsonAsync(io, json =>
        {
            json.WriteString("workload", "pingpong");
            json.WriteNumber("size", settings.Size);
            json.WriteBoolean("busy_poll", pingerOptions.BusyPoll);
            json.WriteNumber("round_trips", rtt.Count);
            json.WriteNumber("warmup", warmup);
            json.WriteNumber("rtt_us_mean", rtt.Mean);
            json.WriteNumber("rtt_us_p50", rtt.P50);
            json.WriteNumber("rtt_us_p90", rtt.P90);
            json.WriteNumber("rtt_us_p99", rtt.P99);
            json.WriteNumber("rtt_us_p999", rtt.P999);
            json.WriteNumber("rtt_us_max", rtt.Max);
            json.WriteNumber("naks_sent", pingerTransport.SubscriberCounters!.NaksSent + echoTransport.SubscriberCounters!.NaksSent);
            json.WriteNumber("retransmits", (pingerTransport.PublisherCounters?.Retransmits ?? 0) + (echoTransport.PublisherCounters?.Retransmits ?? 0));
            json.WriteNumber("cpu_s", Math.Round(cpu.TotalSeconds, 3));
            json.WriteBoolean("ok", finished);
        }).ConfigureAwait(false);
        return finished ? 0 : 1;
    }

    private static MulticastOptions Configure(MulticastOptions options, int size)
    {
        // Both ends exist before the first ping: deliver from the stream's start.
        options.Join = MulticastJoin.Beginning;
        options.MaxMessageSize = Math.Max(options.MaxMessageSize, size);
        return options;
    }

    private static async Task<bool> WaitAsync(Task done, TimeSpan limit, CancellationToken cancellationToken)
    {
        try
        {
            await done.WaitAsync(limit, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Sends ping <c>n</c>, takes its echo's RTT, sends ping <c>n + 1</c>; on the pinger's receive thread.</summary>
    private sealed class Pinger(int size, int warmup, long count, byte topic) : IMulticastReceiver
    {
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly byte[] _message = new byte[size];
        private long _next;
        private long _sentAt;

        public MulticastTransport? Transport { get; set; }

        public RttRecorder Recorder { get; } = new((int)Math.Min(count, 1 << 24));

        public Task Done => _done.Task;

        /// <summary>The process's CPU time when the first measured (after warm-up) ping left.</summary>
        public TimeSpan CpuAtMeasureStart { get; private set; }

        public void SendNext()
        {
            if (_next == warmup)
            {
                CpuAtMeasureStart = Environment.CpuUsage.TotalTime;
            }

            SequencePayload.Write(_message, _next);
            _sentAt = Stopwatch.GetTimestamp();
            Transport!.Offer(_message, topic, flush: true);
        }

        public void OnMessage(byte topic, ReadOnlySpan<byte> message)
        {
            if (SequencePayload.Check(message) != _next)
            {
                return;
            }

            if (_next >= warmup)
            {
                Recorder.Add(_sentAt);
            }

            _next++;
            if (_next == warmup + count)
            {
                _done.TrySetResult();
                return;
            }

            SendNext();
        }
    }

    /// <summary>Sends every ping straight back on the pong topic, from the echo's receive thread.</summary>
    private sealed class Echo(byte answerTopic) : IMulticastReceiver
    {
        public MulticastTransport? Transport { get; set; }

        public void OnMessage(byte topic, ReadOnlySpan<byte> message) => Transport?.Offer(message, answerTopic, flush: true);
    }
}
