using System.CommandLine;
using KcpKestrel.Transport.Kcp;
using KcpKestrel.Transport.Kcp.Client;

namespace KcpKestrel.Cli.Commands;

/// <summary>
/// kcptun's smux switches: <c>--smux</c> (snappy below it unless <c>--nocomp</c>, kcptun's default) and, for a client,
/// the session pool's <c>--conn</c>, <c>--autoexpire</c> and <c>--scavengettl</c> in kcptun's units (seconds).
/// </summary>
internal sealed class SmuxFlags
{
    private readonly Option<bool> _smux = new("--smux")
    {
        Description = "Carry every connection as an smux stream on shared KCP sessions, as kcptun does; compression is snappy unless --nocomp (same as --multiplexing smux --compression snappy)",
    };

    private readonly Option<bool> _noCompression = new("--nocomp")
    {
        Description = "With --smux: no snappy compression (kcptun --nocomp); both ends must agree",
    };

    private readonly Option<int?> _sessions = Flags.Int("--conn", "With --smux: KCP sessions per server that streams are spread over, round robin (kcptun --conn); default 1", 1, 256);

    private readonly Option<int?> _autoExpire = Flags.Int("--autoexpire", "With --smux: seconds a session takes new streams before a fresh one replaces it, 0 never (kcptun --autoexpire); default 0", 0, int.MaxValue / 2);

    private readonly Option<int?> _scavengeTtl = Flags.Int("--scavengettl", "With --smux and --autoexpire: seconds an expired session lives on for its open streams, then is closed (kcptun --scavengettl); default 600", 0, int.MaxValue / 2);

    private readonly bool _client;

    /// <param name="client">True for bench: adds the pool flags, which only a dialing side reads.</param>
    public SmuxFlags(bool client) => _client = client;

    public void AddTo(Command command)
    {
        command.Options.Add(_smux);
        command.Options.Add(_noCompression);
        if (_client)
        {
            command.Options.Add(_sessions);
            command.Options.Add(_autoExpire);
            command.Options.Add(_scavengeTtl);
        }
    }

    /// <summary>
    /// Applies <c>--smux</c>/<c>--nocomp</c> to <paramref name="options"/> (built from <paramref name="kcpFlags"/>); an explicit
    /// <c>--compression</c> wins over --smux's snappy, and contradicts --nocomp.
    /// </summary>
    /// <returns>Whether the connections are smux streams (by --smux or --multiplexing smux).</returns>
    public bool Apply(ParseResult result, KcpFlags kcpFlags, KcpOptions options)
    {
        var noCompression = result.GetValue(_noCompression);
        var explicitCompression = kcpFlags.IsGiven(result, nameof(KcpOptions.Compression));
        if (noCompression && explicitCompression && options.Compression != KcpCompression.None)
        {
            throw new UsageException($"--nocomp contradicts --compression {options.Compression.ToString().ToLowerInvariant()}.");
        }

        if (result.GetValue(_smux))
        {
            options.Multiplexing = KcpMultiplexing.Smux;
            if (!explicitCompression)
            {
                options.Compression = noCompression ? KcpCompression.None : KcpCompression.Snappy;
            }
        }
        else if (noCompression)
        {
            options.Compression = KcpCompression.None;
        }

        return options.Multiplexing == KcpMultiplexing.Smux;
    }

    /// <summary>The pool settings for a client; a pool flag without smux throws <see cref="UsageException"/>.</summary>
    public void ApplyPool(ParseResult result, bool smux, KcpClientOptions client)
    {
        var sessions = result.GetValue(_sessions);
        var autoExpire = result.GetValue(_autoExpire);
        var scavengeTtl = result.GetValue(_scavengeTtl);
        if (!smux)
        {
            var flag = sessions is not null ? "--conn" : autoExpire is not null ? "--autoexpire" : scavengeTtl is not null ? "--scavengettl" : null;
            if (flag is not null)
            {
                throw new UsageException($"{flag} applies only with --smux (without it every connection is a KCP session of its own).");
            }

            return;
        }

        client.SessionsPerEndpoint = sessions ?? client.SessionsPerEndpoint;
        client.AutoExpire = autoExpire is { } expire ? TimeSpan.FromSeconds(expire) : client.AutoExpire;
        client.ScavengeTtl = scavengeTtl is { } ttl ? TimeSpan.FromSeconds(ttl) : client.ScavengeTtl;
    }
}
