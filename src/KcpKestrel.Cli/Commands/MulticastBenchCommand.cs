using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using KcpKestrel.Cli.Multicast;
using KcpKestrel.Multicast;

namespace KcpKestrel.Cli.Commands;

/// <summary>
/// <c>kcpkestrel multicast bench --workload throughput|pingpong</c>: one publisher and <c>--subscribers</c>
/// <c>multicast sub</c> processes, or a ping-pong between two transports; the last line is JSON.
/// </summary>
internal static class MulticastBenchCommand
{
    public static readonly string[] WorkloadNames = ["throughput", "pingpong"];

    public static Command Create(CliIo io)
    {
        var shared = new MulticastCommand.SharedFlags(defaultNode: 1);

        // The flags a subscriber process takes as given here (group, interface, topic, --window, --busy-poll, and any
        // added to pub and sub later); node, loss, timeout and count are set per subscriber.
        var subscriberFlags = MulticastCommand.CreateSub(io).Options.Select(o => o.Name).Except(["--node", "--drop", "--seed", "--timeout", "--count"]).ToHashSet();
        var tuning = new MulticastTuningFlags();
        var workload = Flags.Choice(
            "--workload",
            "throughput: --count messages from this process to --subscribers sub processes; pingpong: --count round trips between two transports in this process, after a warm-up",
            WorkloadNames);
        workload.Required = true;
        var subscribers = Flags.Int("--subscribers", "Subscriber processes for throughput (default 1)", 1, 64);
        var size = Flags.Int("--size", "Bytes per message (default 70)", SequencePayload.MinSize, 64 << 20);
        var seconds = Flags.Double("--seconds", "Give up after this many seconds (default 120)", 1, 86_400, "1 to 86400 s");
        var drop = Flags.Double("--drop", "Share of data packets every subscriber drops on purpose (diagnostic loss)", 0, 0.5, "a probability from 0 to 0.5");
        var seed = Flags.Int("--seed", "Seed of --drop for the first subscriber; the others take the next ones (default 1)", int.MinValue, int.MaxValue - 64, "a whole number");
        var datagram = Flags.Int("--datagram", "Bytes per datagram (default 1400)", 512, MulticastOptions.MaxDatagramSize);
        var pps = Flags.Int("--pps", "Packet rate limit, new and resent together (default 0: none)", 0, 10_000_000);
        var history = Flags.Int("--history", $"Packets the publisher keeps for resends (default {new MulticastOptions().HistoryPackets})", 16, 1 << 20);
        var command = new Command(
            "bench",
            "Measure multicast. The last line is JSON: throughput: msg_per_s and cpu_s (publisher), sub_msg_per_s_min, sub_cpu_s_mean, lost, duplicates, reordered, naks_sent, retransmits, subs (each subscriber's line); pingpong: rtt_us_p50/p90/p99/p999/max/mean, round_trips, cpu_s.");
        command.Options.Add(workload);
        shared.AddTo(command);
        tuning.AddTo(command);
        foreach (var option in new Option[] { subscribers, size, seconds, drop, seed, datagram, pps, history })
        {
            command.Options.Add(option);
        }

        command.SetAction((result, cancellationToken) =>
        {
            var name = result.GetValue(workload)!;
            var messageSize = result.GetValue(size) ?? 70;
            var dropRate = result.GetValue(drop) ?? 0;
            var subscriberCount = result.GetValue(subscribers);
            if (name == "pingpong" && (subscriberCount is not null || dropRate > 0))
            {
                throw new UsageException("--subscribers and --drop apply to --workload throughput only.");
            }

            MulticastOptions NewOptions()
            {
                var options = shared.Options(result);
                tuning.Apply(result, options);
                options.DatagramSize = result.GetValue(datagram) ?? options.DatagramSize;
                options.PacketsPerSecond = result.GetValue(pps) ?? 0;
                options.HistoryPackets = result.GetValue(history) ?? options.HistoryPackets;
                options.MaxMessageSize = Math.Max(options.MaxMessageSize, messageSize);
                options.Validate();
                return options;
            }

            NewOptions(); // a combination MulticastOptions.Validate refuses fails here, before any process starts
            var topic = shared.Topic(result);
            var count = shared.Count(result);
            List<string> subscriberArguments = ["--count", count.ToString(CultureInfo.InvariantCulture), .. ForwardedFlags(result, subscriberFlags)];
            var settings = new MulticastBenchSettings(
                NewOptions,
                topic,
                count,
                messageSize,
                subscriberCount ?? 1,
                dropRate,
                result.GetValue(seed) ?? 1,
                TimeSpan.FromSeconds(result.GetValue(seconds) ?? 120),
                subscriberArguments);
            return name == "throughput"
                ? ThroughputBench.RunAsync(io, settings, cancellationToken)
                : PingPongBench.RunAsync(io, settings, cancellationToken);
        });
        return command;
    }

    /// <summary>The flags given on this command line that <paramref name="names"/> holds, as arguments again.</summary>
    private static List<string> ForwardedFlags(ParseResult result, HashSet<string> names)
    {
        var arguments = new List<string>();
        foreach (var child in result.CommandResult.Children)
        {
            if (child is OptionResult { Implicit: false } option && names.Contains(option.Option.Name))
            {
                arguments.Add(option.Option.Name);
                arguments.AddRange(option.Tokens.Select(t => t.Value));
            }
        }

        return arguments;
    }
}
