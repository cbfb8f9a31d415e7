namespace KcpKestrel.Cli.Tunnel;

/// <summary>One of kcptun's flags, which is also its JSON key: name, short aliases, type, sides and setter.</summary>
internal sealed class KcptunKey
{
    public required string Name { get; init; }

    /// <summary>The key in kcptun's config.json when it is not the flag's name (<c>qpp-count</c> for <c>--QPPCount</c>).</summary>
    public string JsonName
    {
        get => field ?? Name;
        init;
    }

    /// <summary>urfave/cli's other names (<c>listen,l</c>, <c>datashard,ds</c>).</summary>
    public string[] Aliases { get; init; } = [];

    public required KcptunKeyKind Kind { get; init; }

    /// <summary>Null: both sides have it.</summary>
    public TunnelSide? Side { get; init; }

    public required string Usage { get; init; }

    /// <summary>Sets the parsed value (string, int or bool by <see cref="Kind"/>).</summary>
    public required Action<KcptunConfig, object> Set { get; init; }

    public bool AppliesTo(TunnelSide side) => Side is null || Side == side;
}

/// <summary>The Go type of a kcptun flag (urfave/cli's StringFlag, IntFlag, BoolFlag).</summary>
internal enum KcptunKeyKind
{
    String,
    Int,
    Bool,
}
